//! The network's options (`podman network create -o KEY=VALUE`), read one
//! by one so that every error names its option: `vlan`, `vlan_protocol`,
//! `driver`, `mode`, `ipvlan_mode`, `mtu`, `metric`, `no_default_route`,
//! and `parent` (which `create` moves into `network_interface`). Any other
//! key is refused: nothing is guessed.

use std::collections::BTreeMap;

use vlanmac_cni::attach::Driver;
use vlanmac_core::spec::{IpvlanMode, MacvlanMode, Mtu, SpecError, VlanId, VlanProtocol};

use crate::error::{Error, Result};

/// Every option the plugin knows.
pub const KNOWN: &[&str] =
    &["parent", "vlan", "vlan_protocol", "driver", "mode", "ipvlan_mode", "mtu", "metric", "no_default_route"];

/// The options, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `parent`: the parent, when given as an option.
    pub parent: Option<String>,
    /// `vlan`: 1-4094; absent: the container goes on the parent itself.
    pub vlan: Option<VlanId>,
    /// `vlan_protocol`: `802.1Q` (the default) or `802.1ad`.
    pub vlan_protocol: VlanProtocol,
    /// `driver` (`macvlan`, the default, or `ipvlan`) with its mode
    /// (`mode`: bridge, private, vepa, passthru, source; for ipvlan `mode`
    /// or `ipvlan_mode`: l2, l3, l3s).
    pub driver: Driver,
    /// `mtu`: the container interface's; absent or 0: the parent's.
    pub mtu: Option<Mtu>,
    /// `metric`: the default routes' metric (99, as netavark's macvlan).
    pub metric: u32,
    /// `no_default_route`: `true` leaves the default routes out.
    pub no_default_route: bool,
}

/// The default routes' metric: below the kernel's default of 100, as
/// netavark's own macvlan driver has it (containers/podman#23984).
pub const DEFAULT_METRIC: u32 = 99;

fn spec(e: SpecError, option: &str) -> Error {
    Error::option(option, e.named(option).to_string())
}

fn number(options: &BTreeMap<String, String>, key: &str) -> Result<Option<u32>> {
    options
        .get(key)
        .map(|v| v.trim().parse::<u32>().map_err(|_| Error::option(key, format!("{key}: {v:?} is not a number"))))
        .transpose()
}

impl Options {
    /// Reads `options` (a network's `options`, absent: none).
    pub fn parse(options: Option<&BTreeMap<String, String>>) -> Result<Options> {
        let empty = BTreeMap::new();
        let o = options.unwrap_or(&empty);
        if let Some(k) = o.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(Error::option(
                k,
                format!("{k}: is not an option of the vlanmac driver (it knows {})", KNOWN.join(", ")),
            ));
        }
        let vlan = number(o, "vlan")?.map(|v| VlanId::new(v).map_err(|e| spec(e, "vlan"))).transpose()?;
        let vlan_protocol = match o.get("vlan_protocol") {
            Some(p) => p.parse().map_err(|e| spec(e, "vlan_protocol"))?,
            None => VlanProtocol::default(),
        };
        if vlan.is_none() && o.contains_key("vlan_protocol") {
            return Err(Error::option("vlan_protocol", "vlan_protocol: is given without vlan"));
        }
        let driver = match o.get("driver").map(String::as_str) {
            None | Some("macvlan") => {
                if let Some(m) = o.get("ipvlan_mode") {
                    return Err(Error::option(
                        "ipvlan_mode",
                        format!("ipvlan_mode: {m:?} is given, but driver is macvlan (add -o driver=ipvlan)"),
                    ));
                }
                let mode = match o.get("mode") {
                    Some(m) => m.parse::<MacvlanMode>().map_err(|e| spec(e, "mode"))?,
                    None => MacvlanMode::Bridge,
                };
                Driver::Macvlan(mode)
            }
            Some("ipvlan") => {
                let mode = match (o.get("ipvlan_mode"), o.get("mode")) {
                    (Some(a), Some(b)) if a != b => {
                        return Err(Error::option(
                            "ipvlan_mode",
                            format!("ipvlan_mode: {a:?} and mode {b:?} disagree (give one of them)"),
                        ))
                    }
                    (Some(m), _) => m.parse::<IpvlanMode>().map_err(|e| spec(e, "ipvlan_mode"))?,
                    (None, Some(m)) => m.parse::<IpvlanMode>().map_err(|e| spec(e, "mode"))?,
                    (None, None) => IpvlanMode::L2,
                };
                Driver::Ipvlan(mode)
            }
            Some(other) => {
                return Err(Error::option("driver", format!("driver: {other:?} is not one of macvlan, ipvlan")))
            }
        };
        let mtu = match number(o, "mtu")? {
            None | Some(0) => None,
            Some(m) => Some(Mtu::new(m).map_err(|e| spec(e, "mtu"))?),
        };
        let no_default_route = match o.get("no_default_route").map(|v| v.trim()) {
            None => false,
            Some("true" | "1") => true,
            Some("false" | "0") => false,
            Some(v) => {
                return Err(Error::option(
                    "no_default_route",
                    format!("no_default_route: {v:?} is not one of true, false"),
                ))
            }
        };
        let parent = o.get("parent").cloned();
        Ok(Options {
            parent,
            vlan,
            vlan_protocol,
            driver,
            mtu,
            metric: number(o, "metric")?.unwrap_or(DEFAULT_METRIC),
            no_default_route,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Options> {
        let m: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Options::parse(Some(&m))
    }

    fn err(pairs: &[(&str, &str)]) -> String {
        parse(pairs).expect_err("must fail").to_string()
    }

    #[test]
    fn defaults_are_a_bridge_macvlan_on_the_parent() {
        let o = Options::parse(None).unwrap();
        assert_eq!(o.driver, Driver::Macvlan(MacvlanMode::Bridge));
        assert_eq!((o.vlan, o.mtu, o.metric, o.no_default_route), (None, None, 99, false));
        assert_eq!(o.vlan_protocol, VlanProtocol::Ieee8021Q);
    }

    #[test]
    fn every_option_is_read() {
        let o = parse(&[
            ("vlan", "10"),
            ("vlan_protocol", "802.1ad"),
            ("driver", "ipvlan"),
            ("ipvlan_mode", "l3s"),
            ("mtu", "1400"),
            ("metric", "200"),
            ("no_default_route", "true"),
            ("parent", "eth0"),
        ])
        .unwrap();
        assert_eq!(o.vlan.map(|v| v.get()), Some(10));
        assert_eq!(o.vlan_protocol, VlanProtocol::Ieee8021Ad);
        assert_eq!(o.driver, Driver::Ipvlan(IpvlanMode::L3s));
        assert_eq!(o.mtu.map(|m| m.get()), Some(1400));
        assert_eq!((o.metric, o.no_default_route, o.parent.as_deref()), (200, true, Some("eth0")));
        // netavark's ipvlan driver takes its mode as `mode`.
        assert_eq!(parse(&[("driver", "ipvlan"), ("mode", "l3")]).unwrap().driver, Driver::Ipvlan(IpvlanMode::L3));
        assert_eq!(parse(&[("mtu", "0")]).unwrap().mtu, None, "0 is the parent's, as in netavark");
    }

    #[test]
    fn bad_values_name_their_option() {
        for (pairs, want) in [
            (&[("vlan", "5000")][..], "vlan: 5000"),
            (&[("vlan", "ten")], "vlan: \"ten\" is not a number"),
            (&[("vlan", "0")], "vlan: 0"),
            (&[("mode", "bogus")], "mode: bogus"),
            (&[("driver", "bridge")], "driver: \"bridge\""),
            (&[("driver", "ipvlan"), ("mode", "bridge")], "mode: bridge"),
            (&[("ipvlan_mode", "l2")], "ipvlan_mode: \"l2\" is given, but driver is macvlan"),
            (&[("driver", "ipvlan"), ("ipvlan_mode", "l2"), ("mode", "l3")], "ipvlan_mode: \"l2\" and mode"),
            (&[("mtu", "40")], "mtu: 40"),
            (&[("mtu", "-1")], "mtu: \"-1\""),
            (&[("metric", "x")], "metric: \"x\""),
            (&[("no_default_route", "yes")], "no_default_route: \"yes\""),
            (&[("vlan", "10"), ("vlan_protocol", "802.1x")], "vlan_protocol: 802.1x"),
            (&[("vlan_protocol", "802.1ad")], "vlan_protocol: is given without vlan"),
            (&[("isolate", "true")], "isolate: is not an option of the vlanmac driver"),
        ] {
            let got = err(pairs);
            assert!(got.contains(want), "{pairs:?}: {got}");
        }
    }
}
