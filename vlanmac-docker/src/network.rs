//! Docker macvlan/ipvlan networks built from topology networks:
//! `docker network create -d macvlan --subnet ... --gateway ... -o parent=eth0.10 --ipv6 NAME`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest, NetworkInspect};
use serde::Serialize;
use vlanmac_topology::{Driver, Network};

use crate::{
    client::DockerAdapter,
    error::{Error, Result},
};

/// Label marking networks vlanmac created: the topology's name.
pub const LABEL_TOPOLOGY: &str = "org.vlanmac.topology";

/// One IPAM pool of a Docker network.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct DockerSubnet {
    /// `--subnet`
    pub subnet: String,
    /// `--gateway`
    pub gateway: Option<String>,
    /// `--ip-range`
    pub ip_range: Option<String>,
    /// `--aux-address NAME=IP`
    pub aux_addresses: BTreeMap<String, String>,
}

/// The Docker network vlanmac wants for a topology network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DockerNetworkSpec {
    /// Network name.
    pub name: String,
    /// `-d macvlan` or `-d ipvlan`.
    pub driver: String,
    /// `-o` options: `parent`, `macvlan_mode` / `ipvlan_mode`, `ipvlan_flag`.
    pub options: BTreeMap<String, String>,
    /// IPAM pools.
    pub subnets: Vec<DockerSubnet>,
    /// `--ipv6` (when any subnet is IPv6).
    pub ipv6: bool,
    /// Labels (the topology mark).
    pub labels: BTreeMap<String, String>,
}

/// Options Docker treats as defaults when they are absent.
fn option_default(driver: &str, key: &str) -> Option<&'static str> {
    match (driver, key) {
        ("macvlan", "macvlan_mode") => Some("bridge"),
        ("ipvlan", "ipvlan_mode") => Some("l2"),
        ("ipvlan", "ipvlan_flag") => Some("bridge"),
        _ => None,
    }
}

impl DockerNetworkSpec {
    /// The Docker network for topology network `n` of topology `topology`.
    /// The parent is `eth0.10` style when the network has a VLAN: Docker's
    /// driver then creates that subinterface itself when it is missing.
    pub fn from_network(n: &Network, topology: &str) -> Self {
        let mut options = BTreeMap::new();
        options.insert("parent".to_string(), n.link_parent().to_string());
        match &n.driver {
            Driver::Macvlan { mode, .. } => {
                options.insert("macvlan_mode".into(), mode.to_string());
            }
            Driver::Ipvlan { mode, flags } => {
                options.insert("ipvlan_mode".into(), mode.to_string());
                options.insert("ipvlan_flag".into(), flags.to_string());
            }
        }
        let mut subnets: Vec<DockerSubnet> = n
            .subnets
            .iter()
            .map(|s| DockerSubnet {
                subnet: s.subnet.net().to_string(),
                gateway: s.gateway().map(|g| g.to_string()),
                ip_range: s.ip_range.map(|r| r.to_string()),
                aux_addresses: s.aux_addresses.iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
            })
            .collect();
        subnets.sort();
        let mut labels = BTreeMap::new();
        labels.insert(LABEL_TOPOLOGY.to_string(), topology.to_string());
        DockerNetworkSpec {
            name: n.name.clone(),
            driver: n.driver.kind().to_string(),
            options,
            subnets,
            ipv6: n.has_ipv6(),
            labels,
        }
    }

    /// The create request.
    pub fn to_request(&self) -> NetworkCreateRequest {
        NetworkCreateRequest {
            name: self.name.clone(),
            driver: Some(self.driver.clone()),
            enable_ipv6: Some(self.ipv6),
            options: Some(self.options.clone().into_iter().collect()),
            labels: Some(self.labels.clone().into_iter().collect()),
            ipam: Some(Ipam {
                driver: Some("default".into()),
                config: Some(
                    self.subnets
                        .iter()
                        .map(|s| IpamConfig {
                            subnet: Some(s.subnet.clone()),
                            gateway: s.gateway.clone(),
                            ip_range: s.ip_range.clone(),
                            auxiliary_addresses: (!s.aux_addresses.is_empty())
                                .then(|| s.aux_addresses.clone().into_iter().collect::<HashMap<_, _>>()),
                        })
                        .collect(),
                ),
                options: None,
            }),
            ..Default::default()
        }
    }

    /// How an existing network differs from this spec, one line per field
    /// (`driver: existing ipvlan, wanted macvlan`). Empty when equal; a
    /// gateway Docker picked itself is not a difference when none is wanted.
    pub fn differences(&self, have: &NetworkInspect) -> Vec<String> {
        let mut d = Vec::new();
        let driver = have.driver.clone().unwrap_or_default();
        if driver != self.driver {
            d.push(format!("driver: existing {driver}, wanted {}", self.driver));
        }
        let have_opts = have.options.clone().unwrap_or_default();
        let keys: BTreeSet<&String> = have_opts.keys().chain(self.options.keys()).collect();
        for k in keys {
            let h = have_opts.get(k).map(String::as_str).or_else(|| option_default(&driver, k));
            let w = self.options.get(k).map(String::as_str).or_else(|| option_default(&self.driver, k));
            if h != w {
                d.push(format!("option {k}: existing {}, wanted {}", h.unwrap_or("(unset)"), w.unwrap_or("(unset)")));
            }
        }
        let have_v6 = have.enable_ipv6.unwrap_or(false);
        if have_v6 != self.ipv6 {
            d.push(format!("ipv6: existing {have_v6}, wanted {}", self.ipv6));
        }
        let mut have_subnets: Vec<DockerSubnet> = have
            .ipam
            .as_ref()
            .and_then(|i| i.config.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|c| DockerSubnet {
                subnet: c.subnet.unwrap_or_default(),
                gateway: c.gateway.filter(|g| !g.is_empty()),
                ip_range: c.ip_range.filter(|r| !r.is_empty()),
                aux_addresses: c.auxiliary_addresses.unwrap_or_default().into_iter().collect(),
            })
            .collect();
        have_subnets.sort();
        let show = |s: &[DockerSubnet]| {
            s.iter()
                .map(|x| {
                    let mut t = x.subnet.clone();
                    if let Some(g) = &x.gateway {
                        t.push_str(&format!(" gw {g}"));
                    }
                    if let Some(r) = &x.ip_range {
                        t.push_str(&format!(" range {r}"));
                    }
                    t
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let same = have_subnets.len() == self.subnets.len()
            && have_subnets.iter().zip(&self.subnets).all(|(h, w)| {
                h.subnet == w.subnet
                    && (w.gateway.is_none() || h.gateway == w.gateway)
                    && h.ip_range == w.ip_range
                    && h.aux_addresses == w.aux_addresses
            });
        if !same {
            d.push(format!("subnets: existing [{}], wanted [{}]", show(&have_subnets), show(&self.subnets)));
        }
        d
    }
}

/// What `ensure_network` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum NetworkOutcome {
    /// It was created (its id).
    Created(String),
    /// It existed with this configuration: no change.
    Unchanged(String),
}

impl DockerAdapter {
    /// Makes sure the Docker network `spec` exists with exactly this
    /// configuration (`docker network create ...`). The same configuration
    /// is no change; another one is [`Error::Conflict`] listing the
    /// differences — nothing is recreated silently.
    pub async fn ensure_network(&self, spec: &DockerNetworkSpec) -> Result<NetworkOutcome> {
        match self.inspect_network(&spec.name).await? {
            Some(have) => {
                let differences = spec.differences(&have);
                if differences.is_empty() {
                    Ok(NetworkOutcome::Unchanged(have.id.unwrap_or_default()))
                } else {
                    Err(Error::Conflict { network: spec.name.clone(), differences })
                }
            }
            None => {
                let op = format!("create network {}", spec.name);
                let r = self.docker.create_network(spec.to_request()).await.map_err(|e| self.err(&op, e))?;
                Ok(NetworkOutcome::Created(r.id))
            }
        }
    }

    /// `docker network inspect NAME`, or `None` if there is no such network.
    pub async fn inspect_network(&self, name: &str) -> Result<Option<NetworkInspect>> {
        let op = format!("inspect network {name}");
        match self.docker.inspect_network(name, None).await {
            Ok(n) => Ok(Some(n)),
            Err(e) => match self.err(&op, e) {
                Error::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Whether the Docker network `name` exists and carries `topology`'s
    /// label (what [`DockerAdapter::remove_network`] would remove).
    pub async fn network_is_ours(&self, name: &str, topology: &str) -> Result<bool> {
        let Some(have) = self.inspect_network(name).await? else {
            return Ok(false);
        };
        Ok(have.labels.as_ref().and_then(|l| l.get(LABEL_TOPOLOGY)).is_some_and(|t| t == topology))
    }

    /// `docker network rm NAME`, only if the network carries topology
    /// `topology`'s label. Returns whether it was removed.
    pub async fn remove_network(&self, name: &str, topology: &str) -> Result<bool> {
        if !self.network_is_ours(name, topology).await? {
            return Ok(false);
        }
        let op = format!("remove network {name}");
        self.docker.remove_network(name).await.map_err(|e| self.err(&op, e))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_net(name: &str) -> Network {
        let t = vlanmac_topology::from_yaml(include_str!("../../examples/seed.yaml"), "seed").unwrap();
        t.network(name).unwrap().clone()
    }

    #[test]
    fn seed_network_matches_the_seed_command() {
        let s = DockerNetworkSpec::from_network(&seed_net("macvlan10"), "seed");
        assert_eq!(s.driver, "macvlan");
        assert_eq!(s.options["parent"], "eth0.10");
        assert!(s.ipv6);
        assert_eq!(s.subnets.len(), 2);
        let r = s.to_request();
        assert_eq!(r.enable_ipv6, Some(true));
        let cfg = r.ipam.unwrap().config.unwrap();
        assert!(cfg
            .iter()
            .any(|c| c.subnet.as_deref() == Some("10.0.10.0/24") && c.gateway.as_deref() == Some("10.0.10.1")));
    }

    #[test]
    fn differences_are_spelled_out() {
        let want = DockerNetworkSpec::from_network(&seed_net("macvlan10"), "seed");
        let mut have = NetworkInspect {
            driver: Some("macvlan".into()),
            options: Some([("parent".to_string(), "eth0.10".to_string())].into()),
            enable_ipv6: Some(true),
            ipam: want.to_request().ipam,
            ..Default::default()
        };
        assert!(want.differences(&have).is_empty(), "{:?}", want.differences(&have));
        have.driver = Some("ipvlan".into());
        have.options = Some([("parent".to_string(), "eth0.20".to_string())].into());
        have.enable_ipv6 = Some(false);
        let d = want.differences(&have);
        assert!(d.iter().any(|x| x == "driver: existing ipvlan, wanted macvlan"), "{d:?}");
        assert!(d.iter().any(|x| x == "option parent: existing eth0.20, wanted eth0.10"), "{d:?}");
        assert!(d.iter().any(|x| x == "ipv6: existing false, wanted true"), "{d:?}");
    }
}
