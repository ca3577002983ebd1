//! The network configuration on stdin, read field by field so that every
//! error names its field: a bad value is error 7 (`vlan: 5000 is outside
//! 1-4094`), a field the plugin does not know is error 2 (anything may go
//! under `args`), input that is not JSON is error 6. Nothing is guessed: a
//! key given twice (`"vlan":10,"vlan":null`), `null` for one of the
//! plugin's own fields and a MAC with a one-digit group are refused; `"mtu":
//! 0` means the parent's, as in the reference plugin.

use std::{net::IpAddr, str::FromStr};

use ipnet::IpNet;
use serde_json::{Map, Value};
use vlanmac_core::spec::{IfName, IpvlanMode, MacAddr, MacvlanMode, Mtu, VlanId, VlanProtocol};

use crate::{
    error::{CniError, Code, Result},
    version::{Version, SUPPORTED},
};

/// What goes into the pod, on the VLAN (or the master itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// A macvlan in this mode (`bridge` unless `mode` says otherwise).
    Macvlan(MacvlanMode),
    /// An ipvlan in this mode (`l2` unless `ipvlanMode` says otherwise).
    Ipvlan(IpvlanMode),
}

impl Driver {
    /// The link kind's name, as `ip -d link` shows it.
    pub fn kind(self) -> &'static str {
        match self {
            Driver::Macvlan(_) => "macvlan",
            Driver::Ipvlan(_) => "ipvlan",
        }
    }
}

impl std::fmt::Display for Driver {
    /// `macvlan/bridge`, `ipvlan/l2`: the kind and its mode.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Driver::Macvlan(m) => write!(f, "macvlan/{m}"),
            Driver::Ipvlan(m) => write!(f, "ipvlan/{m}"),
        }
    }
}

/// One entry of `cni.dev/valid-attachments` (GC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAttachment {
    /// The container.
    pub container_id: String,
    /// Its interface.
    pub ifname: String,
}

/// A validated network configuration.
#[derive(Debug, Clone)]
pub struct NetConf {
    /// `cniVersion` as written (echoed in results and errors).
    pub cni_version: String,
    /// The version it runs at (its `cniVersion`, which the plugin speaks).
    pub version: Version,
    /// The network's name.
    pub name: String,
    /// The parent in the runtime's namespace; `None`: the interface of the
    /// default route.
    pub master: Option<IfName>,
    /// The VLAN to put the pod on (`<master>.<vlan>`, made on demand).
    pub vlan: Option<VlanId>,
    /// 802.1Q (default) or 802.1ad.
    pub vlan_protocol: VlanProtocol,
    /// macvlan or ipvlan, with its mode.
    pub driver: Driver,
    /// The pod interface's MTU (not above the parent's).
    pub mtu: Option<Mtu>,
    /// A fixed MAC (`mac`).
    pub mac: Option<MacAddr>,
    /// `runtimeConfig.mac` (the `mac` capability): wins over `mac` and
    /// `CNI_ARGS` `MAC=`, as in the reference macvlan plugin.
    pub runtime_mac: Option<MacAddr>,
    /// Derive the MAC from the first IPv4 address, as Docker does (`02:42` + the address).
    pub mac_from_ip: bool,
    /// `ipam.type`: the IPAM plugin to delegate to.
    pub ipam_type: Option<String>,
    /// `dns`, copied into results when IPAM gives none.
    pub dns: Option<Value>,
    /// `prevResult` (CHECK, DEL).
    pub prev_result: Option<Value>,
    /// `cni.dev/valid-attachments` (GC).
    pub valid_attachments: Option<Vec<ValidAttachment>>,
}

/// Top-level fields the plugin knows. The CNI spec's own fields come
/// first; `cni.dev/attachments` is the name libcni 1.2.0 used for
/// `cni.dev/valid-attachments`.
const KNOWN: &[&str] = &[
    "cniVersion",
    "cniVersions",
    "name",
    "type",
    "args",
    "ipMasq",
    "ipam",
    "dns",
    "prevResult",
    "runtimeConfig",
    "capabilities",
    "cni.dev/valid-attachments",
    "cni.dev/attachments",
    "master",
    "vlan",
    "vlanProtocol",
    "mode",
    "driver",
    "ipvlanMode",
    "mtu",
    "mac",
    "macFromIP",
];

/// The fields of this plugin's own (not the spec's): given, they must have
/// a value (`"vlan": null` would silently mean untagged).
const OWN: &[&str] = &["master", "vlan", "vlanProtocol", "mode", "driver", "ipvlanMode", "mtu", "mac", "macFromIP"];

fn bad(field: &str, value: &Value, rule: &str) -> CniError {
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    CniError::new(Code::InvalidConfig, vlanmac_core::spec::SpecError::new(field, shown, rule).to_string())
}

fn string<'a>(o: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(bad(field, v, "must be a string")),
    }
}

fn required_string<'a>(o: &'a Map<String, Value>, field: &str) -> Result<&'a str> {
    string(o, field)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CniError::new(Code::InvalidConfig, format!("{field}: is required")))
}

fn integer(o: &Map<String, Value>, field: &str, rule: &str) -> Result<Option<u32>> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().and_then(|n| u32::try_from(n).ok()).map(Some).ok_or_else(|| bad(field, v, rule)),
    }
}

fn boolean(o: &Map<String, Value>, field: &str) -> Result<bool> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(bad(field, v, "must be true or false")),
    }
}

fn object<'a>(o: &'a Map<String, Value>, field: &str) -> Result<Option<&'a Map<String, Value>>> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(v) => Err(bad(field, v, "must be an object")),
    }
}

fn parsed<T: FromStr>(field: &str, s: &str, rule: &str) -> Result<T> {
    s.parse().map_err(|_| bad(field, &Value::String(s.to_string()), rule))
}

/// A MAC as the reference plugins accept it: six groups of exactly two hex
/// digits, separated by `:` or `-` (`02:00:00:00:00:1` is refused, not read
/// as `...:01`); unicast and non-zero.
pub fn mac(field: &str, s: &str) -> Result<MacAddr> {
    let groups: Vec<&str> = s.split([':', '-']).collect();
    if groups.len() != 6 || groups.iter().any(|g| g.len() != 2) {
        return Err(bad(field, &Value::String(s.into()), "is not six two-digit hex octets separated by ':' or '-'"));
    }
    s.parse::<MacAddr>().map_err(|e| e.named(field).into())
}

/// A network name: an alphanumeric first character, then alphanumerics,
/// `_`, `.`, `-` (the spec's rule).
fn check_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(bad("name", &Value::String(name.into()), "must start with a letter or digit, then A-Z a-z 0-9 _ . -"))
    }
}

/// The `cniVersion` of `input` if it can be read, for error objects.
pub fn peek_version(input: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(input).ok()?;
    v.get("cniVersion")?.as_str().map(str::to_string)
}

/// Reads and validates a network configuration.
pub fn parse(input: &[u8]) -> Result<NetConf> {
    let o = decode(input)?;
    let (cni_version, version) = spec_version(&o)?;
    let name = required_string(&o, "name")?.to_string();
    check_name(&name)?;
    required_string(&o, "type")?;
    if boolean(&o, "ipMasq")? {
        return Err(CniError::new(
            Code::UnsupportedField,
            "ipMasq: vlanmac-cni does not masquerade (use a chained plugin)",
        ));
    }
    let (master, vlan, vlan_protocol) = placement(&o)?;
    let driver = driver(&o)?;
    let (mtu, mac, mac_from_ip) = link_settings(&o, driver)?;
    let ipam_type = ipam_type(&o)?;
    let dns = object(&o, "dns")?.map(|m| Value::Object(m.clone()));
    object(&o, "args")?;
    if let Some(caps) = object(&o, "capabilities")? {
        if let Some((k, v)) = caps.iter().find(|(_, v)| !v.is_boolean()) {
            return Err(bad(&format!("capabilities.{k}"), v, "must be true or false"));
        }
    }
    let prev_result = object(&o, "prevResult")?.map(|m| Value::Object(m.clone()));
    let runtime_mac = runtime_config(&o)?;
    let valid_attachments = valid_attachments(&o)?;
    Ok(NetConf {
        cni_version,
        version,
        name,
        master,
        vlan,
        vlan_protocol,
        driver,
        mtu,
        mac,
        runtime_mac,
        mac_from_ip,
        ipam_type,
        dns,
        prev_result,
        valid_attachments,
    })
}

/// The input as a JSON object of known fields, each given once, this
/// plugin's own fields not null.
fn decode(input: &[u8]) -> Result<Map<String, Value>> {
    let value = crate::unique_json::parse(input).map_err(|e| match e {
        crate::unique_json::Error::Duplicate(path) => {
            CniError::new(Code::InvalidConfig, format!("{path}: is given twice"))
        }
        crate::unique_json::Error::Syntax(e) => {
            CniError::new(Code::Decode, format!("the network configuration is not JSON: {e}"))
        }
    })?;
    let Value::Object(o) = value else {
        return Err(CniError::new(Code::Decode, "the network configuration is not a JSON object"));
    };
    if let Some(unknown) = o.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(CniError::new(
            Code::UnsupportedField,
            format!("{unknown}: unknown field of vlanmac-cni (per-invocation data goes under \"args\")"),
        ));
    }
    if let Some(null) = OWN.iter().find(|f| o.get(**f) == Some(&Value::Null)) {
        return Err(CniError::new(
            Code::InvalidConfig,
            format!("{null}: null is not a value (leave the field out for its default)"),
        ));
    }
    Ok(o)
}

/// `cniVersion` (which must be one the plugin speaks: the runtime sets it
/// to the version it chose from `cniVersions`), and `cniVersions` checked
/// to be a list of strings.
fn spec_version(o: &Map<String, Value>) -> Result<(String, Version)> {
    let cni_version = required_string(o, "cniVersion")?.to_string();
    match o.get("cniVersions") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            if let Some(v) = a.iter().find(|v| !v.is_string()) {
                return Err(bad("cniVersions", v, "must be strings"));
            }
        }
        Some(v) => return Err(bad("cniVersions", v, "must be a list of versions")),
    }
    let version = Version::parse(&cni_version).ok_or_else(|| {
        CniError::new(
            Code::IncompatibleVersion,
            format!("cniVersion: {cni_version} is not supported (this plugin speaks {})", SUPPORTED.join(", ")),
        )
    })?;
    Ok((cni_version, version))
}

/// `master`, `vlan`, `vlanProtocol`.
fn placement(o: &Map<String, Value>) -> Result<(Option<IfName>, Option<VlanId>, VlanProtocol)> {
    let master = string(o, "master")?.map(|s| IfName::new(s).map_err(|e| e.named("master"))).transpose()?;
    let vlan = integer(o, "vlan", "must be a number 1-4094")?.map(|n| VlanId::new(n).map_err(|e| e.named("vlan")));
    let vlan = vlan.transpose()?;
    let vlan_protocol = match string(o, "vlanProtocol")? {
        None => VlanProtocol::Ieee8021Q,
        Some(s) => parsed("vlanProtocol", s, "is not 802.1Q or 802.1ad")?,
    };
    if vlan.is_none() && o.get("vlanProtocol").is_some() {
        return Err(CniError::new(Code::InvalidConfig, "vlanProtocol: needs vlan"));
    }
    Ok((master, vlan, vlan_protocol))
}

/// `driver` with `mode` (macvlan) or `ipvlanMode` (ipvlan).
fn driver(o: &Map<String, Value>) -> Result<Driver> {
    match string(o, "driver")?.unwrap_or("macvlan") {
        "macvlan" => {
            if o.contains_key("ipvlanMode") {
                return Err(CniError::new(Code::InvalidConfig, "ipvlanMode: is for driver ipvlan"));
            }
            let mode = match string(o, "mode")? {
                None => MacvlanMode::Bridge,
                Some(s) => match s.parse::<MacvlanMode>() {
                    Ok(
                        m @ (MacvlanMode::Bridge | MacvlanMode::Private | MacvlanMode::Vepa | MacvlanMode::Passthru),
                    ) => m,
                    _ => return Err(bad("mode", &Value::String(s.into()), "is not bridge, private, vepa or passthru")),
                },
            };
            Ok(Driver::Macvlan(mode))
        }
        "ipvlan" => {
            if o.contains_key("mode") {
                return Err(CniError::new(
                    Code::InvalidConfig,
                    "mode: is for driver macvlan (ipvlan takes ipvlanMode)",
                ));
            }
            let mode = match string(o, "ipvlanMode")? {
                None => IpvlanMode::L2,
                Some(s) => parsed("ipvlanMode", s, "is not l2, l3 or l3s")?,
            };
            Ok(Driver::Ipvlan(mode))
        }
        other => Err(bad("driver", &Value::String(other.into()), "is not macvlan or ipvlan")),
    }
}

/// `mtu` (0: the parent's, as the reference plugin reads it), `mac`,
/// `macFromIP`.
fn link_settings(o: &Map<String, Value>, driver: Driver) -> Result<(Option<Mtu>, Option<MacAddr>, bool)> {
    let mtu = integer(o, "mtu", "must be a number")?
        .filter(|n| *n != 0)
        .map(|n| Mtu::new(n).map_err(|e| e.named("mtu")))
        .transpose()?;
    let mac = string(o, "mac")?.map(|s| mac("mac", s)).transpose()?;
    let mac_from_ip = boolean(o, "macFromIP")?;
    if mac_from_ip && mac.is_some() {
        return Err(CniError::new(Code::InvalidConfig, "macFromIP: cannot be used together with mac"));
    }
    if matches!(driver, Driver::Ipvlan(_)) && (mac.is_some() || mac_from_ip) {
        return Err(CniError::new(Code::InvalidConfig, "mac: an ipvlan has its master's MAC"));
    }
    Ok((mtu, mac, mac_from_ip))
}

/// `ipam.type`: a plugin's name, never a path.
fn ipam_type(o: &Map<String, Value>) -> Result<Option<String>> {
    let Some(ipam) = object(o, "ipam")?.filter(|m| !m.is_empty()) else { return Ok(None) };
    let t = required_string(ipam, "type").map_err(|_| CniError::new(Code::InvalidConfig, "ipam.type: is required"))?;
    if t.contains('/') || t == "." || t == ".." {
        return Err(bad("ipam.type", &Value::String(t.into()), "must be a plugin name, not a path"));
    }
    Ok(Some(t.to_string()))
}

/// `runtimeConfig.mac` (the `mac` capability), and `runtimeConfig.ips`
/// (the `ips` capability, read by the IPAM plugin) checked to be addresses;
/// other capabilities a runtime passes are for other plugins of the list:
/// ignored.
fn runtime_config(o: &Map<String, Value>) -> Result<Option<MacAddr>> {
    let mut runtime_mac = None;
    let Some(rc) = object(o, "runtimeConfig")? else { return Ok(runtime_mac) };
    if let Some(m) = rc.get("mac").filter(|v| !v.is_null()) {
        let s = m.as_str().ok_or_else(|| bad("runtimeConfig.mac", m, "must be a string"))?;
        runtime_mac = Some(mac("runtimeConfig.mac", s)?);
    }
    if let Some(ips) = rc.get("ips").filter(|v| !v.is_null()) {
        let list = ips.as_array().ok_or_else(|| bad("runtimeConfig.ips", ips, "must be a list"))?;
        for (i, ip) in list.iter().enumerate() {
            let field = format!("runtimeConfig.ips[{i}]");
            let s = ip.as_str().ok_or_else(|| bad(&field, ip, "must be a string"))?;
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| bad(&field, ip, "is not an address (with or without /prefix)"))?;
        }
    }
    Ok(runtime_mac)
}

/// `cni.dev/valid-attachments` (or libcni 1.2.0's `cni.dev/attachments`).
fn valid_attachments(o: &Map<String, Value>) -> Result<Option<Vec<ValidAttachment>>> {
    let list = match o.get("cni.dev/valid-attachments").or_else(|| o.get("cni.dev/attachments")) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(a)) => a,
        Some(v) => return Err(bad("cni.dev/valid-attachments", v, "must be a list")),
    };
    let entry = |(i, v): (usize, &Value)| {
        let field = format!("cni.dev/valid-attachments[{i}]");
        let m = v.as_object().ok_or_else(|| bad(&field, v, "must be an object"))?;
        let get = |k: &str| {
            m.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| CniError::new(Code::InvalidConfig, format!("{field}.{k}: is required")))
        };
        Ok(ValidAttachment { container_id: get("containerID")?, ifname: get("ifname")? })
    };
    list.iter().enumerate().map(entry).collect::<Result<Vec<_>>>().map(Some)
}

impl NetConf {
    /// The VLAN subinterface's name on `master`: `<master>.<vlan>`.
    pub fn vlan_name(&self, master: &IfName) -> Option<Result<IfName>> {
        self.vlan.map(|id| master.vlan_child(id).map_err(|e| CniError::from(e.named("vlan"))))
    }
}
