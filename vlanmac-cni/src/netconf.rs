//! The network configuration on stdin, read field by field so that every
//! error names its field: a bad value is error 7 (`vlan: 5000 is outside
//! 1-4094`), a field the plugin does not know is error 2 (anything may go
//! under `args`), input that is not JSON is error 6.

use std::{net::IpAddr, str::FromStr};

use ipnet::IpNet;
use serde_json::{Map, Value};
use vlanmac_core::spec::{IfName, IpvlanMode, MacAddr, MacvlanMode, Mtu, VlanId, VlanProtocol};

use crate::{
    error::{CniError, Code, Result},
    version::{negotiate, Version},
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
    /// The version in use (see [`crate::version::negotiate`]).
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
    /// `runtimeConfig.ips` (the `ips` capability; also read by IPAM plugins).
    pub runtime_ips: Vec<IpNet>,
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
    let value: Value = serde_json::from_slice(input)
        .map_err(|e| CniError::new(Code::Decode, format!("the network configuration is not JSON: {e}")))?;
    let Value::Object(o) = value else {
        return Err(CniError::new(Code::Decode, "the network configuration is not a JSON object"));
    };
    if let Some(unknown) = o.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(CniError::new(
            Code::UnsupportedField,
            format!("{unknown}: unknown field of vlanmac-cni (per-invocation data goes under \"args\")"),
        ));
    }
    let cni_version = required_string(&o, "cniVersion")?.to_string();
    let versions = match o.get("cniVersions") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(|| bad("cniVersions", v, "must be strings")))
                .collect::<Result<Vec<_>>>()?,
        ),
        Some(v) => return Err(bad("cniVersions", v, "must be a list of versions")),
    };
    let version = negotiate(&cni_version, versions.as_deref())?;
    let name = required_string(&o, "name")?.to_string();
    check_name(&name)?;
    required_string(&o, "type")?;

    if boolean(&o, "ipMasq")? {
        return Err(CniError::new(
            Code::UnsupportedField,
            "ipMasq: vlanmac-cni does not masquerade (use a chained plugin)",
        ));
    }
    let master = string(&o, "master")?.map(|s| IfName::new(s).map_err(|e| e.named("master"))).transpose()?;
    let vlan = integer(&o, "vlan", "must be a number 1-4094")?.map(|n| VlanId::new(n).map_err(|e| e.named("vlan")));
    let vlan = vlan.transpose()?;
    let vlan_protocol = match string(&o, "vlanProtocol")? {
        None => VlanProtocol::Ieee8021Q,
        Some(s) => parsed("vlanProtocol", s, "is not 802.1Q or 802.1ad")?,
    };
    if vlan.is_none() && o.get("vlanProtocol").is_some() {
        return Err(CniError::new(Code::InvalidConfig, "vlanProtocol: needs vlan"));
    }
    let driver = match string(&o, "driver")?.unwrap_or("macvlan") {
        "macvlan" => {
            if o.contains_key("ipvlanMode") {
                return Err(CniError::new(Code::InvalidConfig, "ipvlanMode: is for driver ipvlan"));
            }
            let mode = match string(&o, "mode")? {
                None => MacvlanMode::Bridge,
                Some(s) => match s.parse::<MacvlanMode>() {
                    Ok(
                        m @ (MacvlanMode::Bridge | MacvlanMode::Private | MacvlanMode::Vepa | MacvlanMode::Passthru),
                    ) => m,
                    _ => return Err(bad("mode", &Value::String(s.into()), "is not bridge, private, vepa or passthru")),
                },
            };
            Driver::Macvlan(mode)
        }
        "ipvlan" => {
            if o.contains_key("mode") {
                return Err(CniError::new(
                    Code::InvalidConfig,
                    "mode: is for driver macvlan (ipvlan takes ipvlanMode)",
                ));
            }
            let mode = match string(&o, "ipvlanMode")? {
                None => IpvlanMode::L2,
                Some(s) => parsed("ipvlanMode", s, "is not l2, l3 or l3s")?,
            };
            Driver::Ipvlan(mode)
        }
        other => return Err(bad("driver", &Value::String(other.into()), "is not macvlan or ipvlan")),
    };
    let mtu = integer(&o, "mtu", "must be a number")?.map(|n| Mtu::new(n).map_err(|e| e.named("mtu"))).transpose()?;
    let mac = string(&o, "mac")?.map(|s| s.parse::<MacAddr>().map_err(|e| e.named("mac"))).transpose()?;
    let mac_from_ip = boolean(&o, "macFromIP")?;
    if mac_from_ip && mac.is_some() {
        return Err(CniError::new(Code::InvalidConfig, "macFromIP: cannot be used together with mac"));
    }
    if matches!(driver, Driver::Ipvlan(_)) && (mac.is_some() || mac_from_ip) {
        return Err(CniError::new(Code::InvalidConfig, "mac: an ipvlan has its master's MAC"));
    }

    let ipam_type = match object(&o, "ipam")? {
        None => None,
        Some(ipam) if ipam.is_empty() => None,
        Some(ipam) => {
            let t = required_string(ipam, "type")
                .map_err(|_| CniError::new(Code::InvalidConfig, "ipam.type: is required"))?;
            if t.contains('/') || t == "." || t == ".." {
                return Err(bad("ipam.type", &Value::String(t.into()), "must be a plugin name, not a path"));
            }
            Some(t.to_string())
        }
    };
    let dns = object(&o, "dns")?.map(|m| Value::Object(m.clone()));
    object(&o, "args")?;
    if let Some(caps) = object(&o, "capabilities")? {
        if let Some((k, v)) = caps.iter().find(|(_, v)| !v.is_boolean()) {
            return Err(bad(&format!("capabilities.{k}"), v, "must be true or false"));
        }
    }
    let prev_result = object(&o, "prevResult")?.map(|m| Value::Object(m.clone()));

    let mut runtime_ips = Vec::new();
    let mut runtime_mac = None;
    if let Some(rc) = object(&o, "runtimeConfig")? {
        // Other capabilities a runtime passes are for other plugins of the
        // list: ignored.
        if let Some(m) = rc.get("mac").filter(|v| !v.is_null()) {
            let s = m.as_str().ok_or_else(|| bad("runtimeConfig.mac", m, "must be a string"))?;
            runtime_mac = Some(s.parse::<MacAddr>().map_err(|e| e.named("runtimeConfig.mac"))?);
        }
        if let Some(ips) = rc.get("ips").filter(|v| !v.is_null()) {
            let list = ips.as_array().ok_or_else(|| bad("runtimeConfig.ips", ips, "must be a list"))?;
            for (i, ip) in list.iter().enumerate() {
                let field = format!("runtimeConfig.ips[{i}]");
                let s = ip.as_str().ok_or_else(|| bad(&field, ip, "must be a string"))?;
                let net = s
                    .parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| bad(&field, ip, "is not an address (with or without /prefix)"))?;
                runtime_ips.push(net);
            }
        }
    }

    let attachments = o.get("cni.dev/valid-attachments").or_else(|| o.get("cni.dev/attachments"));
    let valid_attachments = match attachments {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .enumerate()
                .map(|(i, v)| {
                    let field = format!("cni.dev/valid-attachments[{i}]");
                    let m = v.as_object().ok_or_else(|| bad(&field, v, "must be an object"))?;
                    let get = |k: &str| {
                        m.get(k)
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .ok_or_else(|| CniError::new(Code::InvalidConfig, format!("{field}.{k}: is required")))
                    };
                    Ok(ValidAttachment { container_id: get("containerID")?, ifname: get("ifname")? })
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        Some(v) => return Err(bad("cni.dev/valid-attachments", v, "must be a list")),
    };

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
        runtime_ips,
        valid_attachments,
    })
}

impl NetConf {
    /// The VLAN subinterface's name on `master`: `<master>.<vlan>`.
    pub fn vlan_name(&self, master: &IfName) -> Option<Result<IfName>> {
        self.vlan.map(|id| master.vlan_child(id).map_err(|e| CniError::from(e.named("vlan"))))
    }

    /// The ownership token this network's VLANs carry in their vlanmac mark
    /// (`vlanmac:cni:<network>`): `:` cannot occur in a topology's name, so
    /// topologies and CNI networks can share a VLAN without mistaking each
    /// other's marks.
    pub fn owner(&self) -> String {
        format!("cni:{}", self.name)
    }
}
