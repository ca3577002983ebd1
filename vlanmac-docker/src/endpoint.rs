//! Containers on Docker networks: `docker network connect --ip --ip6`,
//! `docker network disconnect`, and a typed `docker inspect` view.

use std::{collections::BTreeMap, net::IpAddr};

use bollard::models::{EndpointIpamConfig, EndpointSettings, NetworkConnectRequest, NetworkDisconnectRequest};
use serde::Serialize;
use vlanmac_core::spec::{MacAddr, SpecError};

use crate::{
    client::DockerAdapter,
    error::{Error, Result},
};

/// Static addressing for a connection (`--ip`, `--ip6`, MAC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointRequest {
    /// `--ip`
    pub ipv4: Option<IpAddr>,
    /// `--ip6`
    pub ipv6: Option<IpAddr>,
    /// The MAC address (the engine must support per-network MACs, API ≥ 1.44,
    /// unless it equals Docker's own `02:42`+IPv4 choice).
    pub mac: Option<MacAddr>,
}

/// One network of a container, as `docker inspect` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EndpointView {
    /// `IPAddress`
    pub ip_address: Option<String>,
    /// `IPPrefixLen`
    pub ip_prefix_len: Option<i64>,
    /// `Gateway`
    pub gateway: Option<String>,
    /// `GlobalIPv6Address`
    pub global_ipv6_address: Option<String>,
    /// `GlobalIPv6PrefixLen`
    pub global_ipv6_prefix_len: Option<i64>,
    /// `IPv6Gateway`
    pub ipv6_gateway: Option<String>,
    /// `MacAddress`
    pub mac_address: Option<String>,
}

/// A container's networks (`docker inspect CONTAINER` → `NetworkSettings.Networks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerNetworks {
    /// Container name (without the leading `/`).
    pub name: String,
    /// Its main process, when running.
    pub pid: Option<u32>,
    /// By network name.
    pub networks: BTreeMap<String, EndpointView>,
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|x| !x.is_empty())
}

impl From<&EndpointSettings> for EndpointView {
    fn from(e: &EndpointSettings) -> Self {
        EndpointView {
            ip_address: nonempty(e.ip_address.clone()),
            ip_prefix_len: e.ip_prefix_len.filter(|p| *p > 0),
            gateway: nonempty(e.gateway.clone()),
            global_ipv6_address: nonempty(e.global_ipv6_address.clone()),
            global_ipv6_prefix_len: e.global_ipv6_prefix_len.filter(|p| *p > 0),
            ipv6_gateway: nonempty(e.ipv6_gateway.clone()),
            mac_address: nonempty(e.mac_address.clone()),
        }
    }
}

impl DockerAdapter {
    /// `docker inspect CONTAINER`: its networks with addresses, gateways and MACs.
    pub async fn inspect(&self, container: &str) -> Result<ContainerNetworks> {
        let op = format!("inspect container {container}");
        let c = self.docker.inspect_container(container, None).await.map_err(|e| match self.err(&op, e) {
            Error::NotFound { .. } => Error::NotFound { what: format!("container {container}") },
            other => other,
        })?;
        let pid = c.state.as_ref().and_then(|s| s.pid).filter(|p| *p > 0).and_then(|p| u32::try_from(p).ok());
        let networks = c
            .network_settings
            .as_ref()
            .and_then(|n| n.networks.as_ref())
            .map(|m| m.iter().map(|(k, v)| (k.clone(), EndpointView::from(v))).collect())
            .unwrap_or_default();
        Ok(ContainerNetworks { name: c.name.unwrap_or_default().trim_start_matches('/').to_string(), pid, networks })
    }

    /// The PID of a running container's main process (its namespaces).
    pub async fn container_pid(&self, container: &str) -> Result<u32> {
        self.inspect(container).await?.pid.ok_or_else(|| Error::Docker {
            op: format!("find the namespace of container {container}"),
            status: 409,
            message: "the container is not running".into(),
        })
    }

    /// `docker network connect [--ip A] [--ip6 B] NETWORK CONTAINER`.
    /// Already attached with the same addresses: no change (`false`);
    /// attached with others: [`Error::Conflict`]. A container on the `none`
    /// network is disconnected from it first (Docker refuses otherwise).
    pub async fn connect(&self, network: &str, container: &str, req: &EndpointRequest) -> Result<bool> {
        let now = self.inspect(container).await?;
        let subnets = self.network_subnets(network).await?;
        self.connect_known(network, &now, req, &subnets).await
    }

    /// [`DockerAdapter::connect`] given what the caller has already read:
    /// the container as `docker inspect` showed it (`now`) and the
    /// network's subnets. One API call when nothing is in the way.
    pub(crate) async fn connect_known(
        &self,
        network: &str,
        now: &ContainerNetworks,
        req: &EndpointRequest,
        subnets: &[ipnet::IpNet],
    ) -> Result<bool> {
        let container = now.name.as_str();
        if let Some(have) = now.networks.get(network) {
            let mut differences = Vec::new();
            let cmp = |what: &str, want: Option<String>, have: &Option<String>, d: &mut Vec<String>| {
                if let Some(w) = want {
                    if have.as_deref() != Some(w.as_str()) {
                        d.push(format!("{what}: existing {}, wanted {w}", have.as_deref().unwrap_or("(none)")));
                    }
                }
            };
            cmp("ipv4", req.ipv4.map(|a| a.to_string()), &have.ip_address, &mut differences);
            cmp("ipv6", req.ipv6.map(|a| a.to_string()), &have.global_ipv6_address, &mut differences);
            cmp("mac", req.mac.map(|m| m.to_string()), &have.mac_address, &mut differences);
            return if differences.is_empty() {
                Ok(false)
            } else {
                Err(Error::Conflict { network: format!("{network} (container {container})"), differences })
            };
        }
        check_fits(network, req, subnets)?;
        let was_on_none = now.networks.contains_key("none");
        if was_on_none {
            self.leave("none", container).await?;
        }
        let settings = EndpointSettings {
            ipam_config: Some(EndpointIpamConfig {
                ipv4_address: req.ipv4.map(|a| a.to_string()),
                ipv6_address: req.ipv6.map(|a| a.to_string()),
                link_local_ips: None,
            }),
            mac_address: req.mac.map(|m| m.to_string()),
            ..Default::default()
        };
        let op = format!("connect container {container} to network {network}");
        let connected = self
            .docker
            .connect_network(
                network,
                NetworkConnectRequest { container: container.to_string(), endpoint_config: Some(settings) },
            )
            .await;
        if let Err(e) = connected {
            // Leave the container as it was: off this network (the engine
            // may have recorded it anyway), back on `none` if it was there.
            let err = self.err(&op, e);
            if self.inspect(container).await.is_ok_and(|c| c.networks.contains_key(network)) {
                let _ = self
                    .docker
                    .disconnect_network(
                        network,
                        NetworkDisconnectRequest { container: container.to_string(), force: Some(true) },
                    )
                    .await;
            }
            if was_on_none {
                let _ = self
                    .docker
                    .connect_network(
                        "none",
                        NetworkConnectRequest { container: container.to_string(), endpoint_config: None },
                    )
                    .await;
            }
            return Err(err);
        }
        if let Some(want) = req.mac {
            let got = self.inspect(container).await?.networks.get(network).and_then(|e| e.mac_address.clone());
            if got.as_deref() != Some(want.to_string().as_str()) {
                let _ = self.disconnect(network, container).await;
                return Err(Error::Docker {
                    op,
                    status: 0,
                    message: format!(
                        "the engine gave MAC {} instead of {want} (per-network MACs need Docker API 1.44 or later)",
                        got.unwrap_or_default()
                    ),
                });
            }
        }
        Ok(true)
    }

    /// The subnets of Docker network `network` (it must exist).
    pub(crate) async fn network_subnets(&self, network: &str) -> Result<Vec<ipnet::IpNet>> {
        let Some(net) = self.inspect_network(network).await? else {
            return Err(Error::NotFound { what: format!("network {network}") });
        };
        Ok(net
            .ipam
            .and_then(|i| i.config)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| c.subnet.and_then(|s| s.parse().ok()))
            .collect())
    }

    /// `docker network disconnect NETWORK CONTAINER`; `false` if it was not attached.
    pub async fn disconnect(&self, network: &str, container: &str) -> Result<bool> {
        if !self.inspect(container).await?.networks.contains_key(network) {
            return Ok(false);
        }
        self.leave(network, container).await?;
        Ok(true)
    }

    /// `docker network disconnect NETWORK CONTAINER` of a container known
    /// to be attached.
    pub(crate) async fn leave(&self, network: &str, container: &str) -> Result<()> {
        let op = format!("disconnect container {container} from network {network}");
        self.docker
            .disconnect_network(
                network,
                NetworkDisconnectRequest { container: container.to_string(), force: Some(false) },
            )
            .await
            .map_err(|e| self.err(&op, e))?;
        Ok(())
    }
}

/// Refuses static addresses outside the network's subnets before the
/// engine sees them (Docker 20.10 leaves a stale entry behind when it
/// refuses a connect).
fn check_fits(network: &str, req: &EndpointRequest, subnets: &[ipnet::IpNet]) -> Result<()> {
    for (field, addr) in [("ipv4", req.ipv4), ("ipv6", req.ipv6)] {
        let Some(a) = addr else { continue };
        if !subnets.iter().any(|s| s.contains(&a)) {
            let list: Vec<String> = subnets.iter().map(|s| s.to_string()).collect();
            return Err(SpecError::new(
                field,
                a,
                format!("is outside the subnets of docker network {network} ({})", list.join(", ")),
            )
            .into());
        }
    }
    Ok(())
}
