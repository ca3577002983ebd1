//! The ADD result in the shape of the requested spec version, and the IPAM
//! plugin's result read in any supported version.
//!
//! Field names and omissions follow libcni's Go types (`types/040`,
//! `types/100`), so runtimes and the reference plugins see the same shape:
//! `interfaces`, `ips`, `routes` left out when empty, `dns` always an
//! object, `ips[].version` only at 0.4.0, `interfaces[].mtu` only at 1.1.0.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::{
    error::{CniError, Code, Result},
    version::Version,
};

/// An interface the plugin made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Its name.
    pub name: String,
    /// Its MAC address (`aa:bb:...`).
    pub mac: Option<String>,
    /// Its MTU (reported from 1.1.0 on).
    pub mtu: Option<u32>,
    /// The namespace it is in (`CNI_NETNS`); `None` for host interfaces.
    pub sandbox: Option<String>,
}

/// An address, its gateway and the interface it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpConfig {
    /// Address with prefix.
    pub address: IpNet,
    /// Its gateway, if any.
    pub gateway: Option<IpAddr>,
    /// Index into the result's interfaces.
    pub interface: Option<usize>,
}

/// A route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Destination.
    pub dst: IpNet,
    /// Next hop; `None`: the interface's gateway, or on-link.
    pub gw: Option<IpAddr>,
}

/// The result of ADD (and what an IPAM plugin returns, minus interfaces).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CniResult {
    /// Interfaces made.
    pub interfaces: Vec<Interface>,
    /// Addresses.
    pub ips: Vec<IpConfig>,
    /// Routes.
    pub routes: Vec<Route>,
    /// DNS settings, as given (an object).
    pub dns: Map<String, Value>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl CniResult {
    /// The JSON of this result at `version`, with `cniVersion` as the
    /// configuration wrote it.
    pub fn to_value(&self, version: Version, cni_version: &str) -> Value {
        #[derive(Serialize)]
        struct Iface<'a> {
            name: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            mac: Option<&'a str>,
            #[serde(skip_serializing_if = "is_zero")]
            mtu: u32,
            #[serde(skip_serializing_if = "Option::is_none")]
            sandbox: Option<&'a str>,
        }
        let mut out = Map::new();
        out.insert("cniVersion".into(), json!(cni_version));
        if !self.interfaces.is_empty() {
            let ifaces: Vec<Iface> = self
                .interfaces
                .iter()
                .map(|i| Iface {
                    name: &i.name,
                    mac: i.mac.as_deref(),
                    mtu: if version >= Version::V110 { i.mtu.unwrap_or(0) } else { 0 },
                    sandbox: i.sandbox.as_deref(),
                })
                .collect();
            out.insert("interfaces".into(), json!(ifaces));
        }
        if !self.ips.is_empty() {
            let ips: Vec<Value> = self
                .ips
                .iter()
                .map(|ip| {
                    let mut m = Map::new();
                    if version == Version::V040 {
                        m.insert("version".into(), json!(if ip.address.addr().is_ipv4() { "4" } else { "6" }));
                    }
                    if let Some(i) = ip.interface {
                        m.insert("interface".into(), json!(i));
                    }
                    m.insert("address".into(), json!(ip.address.to_string()));
                    if let Some(g) = ip.gateway {
                        m.insert("gateway".into(), json!(g.to_string()));
                    }
                    Value::Object(m)
                })
                .collect();
            out.insert("ips".into(), Value::Array(ips));
        }
        if !self.routes.is_empty() {
            let routes: Vec<Value> = self
                .routes
                .iter()
                .map(|r| {
                    let mut m = Map::new();
                    m.insert("dst".into(), json!(r.dst.to_string()));
                    if let Some(g) = r.gw {
                        m.insert("gw".into(), json!(g.to_string()));
                    }
                    Value::Object(m)
                })
                .collect();
            out.insert("routes".into(), Value::Array(routes));
        }
        out.insert("dns".into(), Value::Object(self.dns.clone()));
        Value::Object(out)
    }

    /// Reads a result (an IPAM plugin's, or `prevResult`) of any supported
    /// version. `what` names it in errors.
    pub fn from_value(v: &Value, what: &str) -> Result<CniResult> {
        let decode = |detail: String| CniError::new(Code::Decode, format!("{what}: {detail}"));
        let o = v.as_object().ok_or_else(|| decode("is not an object".into()))?;
        let list = |k: &str| o.get(k).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        let text = |m: &Value, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        let mut r = CniResult::default();
        for (i, iface) in list("interfaces").iter().enumerate() {
            let name = text(iface, "name").ok_or_else(|| decode(format!("interfaces[{i}].name is missing")))?;
            r.interfaces.push(Interface {
                name,
                mac: text(iface, "mac"),
                mtu: iface.get("mtu").and_then(Value::as_u64).and_then(|m| u32::try_from(m).ok()),
                sandbox: text(iface, "sandbox"),
            });
        }
        for (i, ip) in list("ips").iter().enumerate() {
            let address = text(ip, "address")
                .and_then(|a| a.parse::<IpNet>().ok())
                .ok_or_else(|| decode(format!("ips[{i}].address is not an address with prefix")))?;
            let gateway = match text(ip, "gateway") {
                None => None,
                Some(g) => Some(g.parse().map_err(|_| decode(format!("ips[{i}].gateway {g:?} is not an address")))?),
            };
            let interface = ip.get("interface").and_then(Value::as_u64).and_then(|n| usize::try_from(n).ok());
            r.ips.push(IpConfig { address, gateway, interface });
        }
        for (i, route) in list("routes").iter().enumerate() {
            let dst = text(route, "dst")
                .and_then(|d| d.parse::<IpNet>().ok())
                .ok_or_else(|| decode(format!("routes[{i}].dst is not a destination with prefix")))?;
            let gw = match text(route, "gw") {
                None => None,
                Some(g) => Some(g.parse().map_err(|_| decode(format!("routes[{i}].gw {g:?} is not an address")))?),
            };
            r.routes.push(Route { dst, gw });
        }
        if let Some(Value::Object(d)) = o.get("dns") {
            r.dns = d.clone();
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CniResult {
        CniResult {
            interfaces: vec![Interface {
                name: "net1".into(),
                mac: Some("02:42:0a:00:0a:05".into()),
                mtu: Some(1500),
                sandbox: Some("/var/run/netns/pod".into()),
            }],
            ips: vec![
                IpConfig {
                    address: "10.0.10.5/24".parse().unwrap(),
                    gateway: Some("10.0.10.1".parse().unwrap()),
                    interface: Some(0),
                },
                IpConfig { address: "2001:db8:babe:10::5/64".parse().unwrap(), gateway: None, interface: Some(0) },
            ],
            routes: vec![Route { dst: "0.0.0.0/0".parse().unwrap(), gw: Some("10.0.10.1".parse().unwrap()) }],
            dns: Map::new(),
        }
    }

    /// The results of every supported version, against golden JSON
    /// (`tests/golden/result-*.json`).
    #[test]
    fn results_match_the_golden_files() {
        for (version, file) in [
            (Version::V040, include_str!("../tests/golden/result-0.4.0.json")),
            (Version::V100, include_str!("../tests/golden/result-1.0.0.json")),
            (Version::V110, include_str!("../tests/golden/result-1.1.0.json")),
        ] {
            let golden: Value = serde_json::from_str(file).unwrap();
            assert_eq!(sample().to_value(version, version.as_str()), golden, "{}", version.as_str());
            // And each reads back into the same result (minus what the version drops).
            let back = CniResult::from_value(&golden, "golden").unwrap();
            assert_eq!(back.ips, sample().ips);
            assert_eq!(back.routes, sample().routes);
        }
    }

    #[test]
    fn bad_results_are_decode_errors_naming_the_field() {
        for (bad, field) in [
            (json!([]), "is not an object"),
            (json!({"ips": [{"address": "10.0.0.1"}]}), "ips[0].address"),
            (json!({"ips": [{"address": "10.0.0.1/24", "gateway": "x"}]}), "ips[0].gateway"),
            (json!({"routes": [{"dst": "nope"}]}), "routes[0].dst"),
            (json!({"interfaces": [{"mac": "x"}]}), "interfaces[0].name"),
        ] {
            let e = CniResult::from_value(&bad, "ipam result").unwrap_err();
            assert_eq!(e.code, Code::Decode);
            assert!(e.msg.contains(field), "{e}");
        }
    }
}
