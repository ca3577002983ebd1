//! [`Docker`]: Docker as the topology engine's container runtime
//! ([`ContainerRuntime`]): containers resolved to their namespaces by
//! `docker inspect`, Docker macvlan/ipvlan networks made from topology
//! networks, containers connected with `--ip`/`--ip6`. The engine
//! (vlanmac-topology's `Engine`) decides what to do; this only does it.

use std::{collections::HashMap, sync::OnceLock};

use bollard::query_parameters::EventsOptions;
use futures::stream::{BoxStream, StreamExt};

use vlanmac_topology::{Connection, ContainerRuntime, Network, NetworkState};

use crate::{
    client::DockerAdapter,
    endpoint::{ContainerNetworks, EndpointRequest},
    error::{Error, Result},
    network::{DockerNetworkSpec, NetworkOutcome},
};

/// The Docker daemon as a container runtime: one given already open
/// ([`Docker::with`]), or the one at `$DOCKER_HOST` (or the default socket,
/// TLS with `$DOCKER_TLS_VERIFY`) opened when an engine verb first needs
/// it ([`Docker::from_env`]), after the engine's privilege check.
///
/// ```no_run
/// # async fn f() -> vlanmac_topology::Result<()> {
/// use vlanmac_topology::{Engine, Options};
/// use vlanmac_docker::Docker;
///
/// let t = vlanmac_topology::from_path("examples/seed-docker.yaml".as_ref())?;
/// let engine = Engine::with_runtime(t, Docker::from_env());
/// engine.apply(&Options::default()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct Docker {
    adapter: OnceLock<DockerAdapter>,
}

impl Docker {
    /// The daemon of `$DOCKER_HOST`, opened on first use.
    pub fn from_env() -> Docker {
        Docker::default()
    }

    /// A daemon already open (TLS, another socket).
    pub fn with(adapter: DockerAdapter) -> Docker {
        let cell = OnceLock::new();
        let _ = cell.set(adapter);
        Docker { adapter: cell }
    }

    /// The open adapter (after [`ContainerRuntime::start`]).
    pub fn adapter(&self) -> Result<&DockerAdapter> {
        self.adapter.get().ok_or_else(|| {
            Error::Core(vlanmac_core::Error::Internal("the Docker runtime was used before it was started".into()))
        })
    }
}

impl From<DockerAdapter> for Docker {
    fn from(adapter: DockerAdapter) -> Self {
        Docker::with(adapter)
    }
}

/// A Docker network ready for connections: its subnets, read once.
#[derive(Debug, Clone)]
pub struct ReadyNetwork {
    subnets: Vec<ipnet::IpNet>,
}

impl ContainerRuntime for Docker {
    type Error = Error;
    type Container = ContainerNetworks;
    type Network = ReadyNetwork;
    const NAME: &'static str = "docker";

    async fn start(&self) -> Result<()> {
        if self.adapter.get().is_none() {
            let _ = self.adapter.set(DockerAdapter::open().await?);
        }
        Ok(())
    }

    async fn container(&self, name: &str) -> Result<ContainerNetworks> {
        self.adapter()?.inspect(name).await
    }

    fn pid(&self, c: &ContainerNetworks) -> Option<u32> {
        c.pid
    }

    fn is_on(&self, c: &ContainerNetworks, network: &str) -> bool {
        c.networks.contains_key(network)
    }

    fn network_row(&self, n: &Network, topology: &str) -> (String, String) {
        let spec = DockerNetworkSpec::from_network(n, topology);
        let parent = spec.options.get("parent").map(String::as_str).unwrap_or("-");
        (format!("network {}", spec.name), format!("{} on {parent}", spec.driver))
    }

    async fn network_state(&self, n: &Network, topology: &str) -> Result<NetworkState> {
        let spec = DockerNetworkSpec::from_network(n, topology);
        Ok(match self.adapter()?.inspect_network(&n.name).await? {
            None => NetworkState::Missing,
            Some(have) => {
                let d = spec.differences(&have);
                if d.is_empty() {
                    NetworkState::Matches
                } else {
                    NetworkState::Differs(d)
                }
            }
        })
    }

    async fn ensure_network(&self, n: &Network, topology: &str) -> Result<(bool, ReadyNetwork)> {
        let d = self.adapter()?;
        let outcome = d.ensure_network(&DockerNetworkSpec::from_network(n, topology)).await?;
        let subnets = d.network_subnets(&n.name).await?;
        Ok((matches!(outcome, NetworkOutcome::Created(_)), ReadyNetwork { subnets }))
    }

    async fn connect(&self, net: &ReadyNetwork, c: &mut ContainerNetworks, conn: &Connection) -> Result<bool> {
        let req = EndpointRequest { ipv4: conn.ipv4, ipv6: conn.ipv6, mac: conn.mac };
        let made = self.adapter()?.connect_known(&conn.network, c, &req, &net.subnets).await?;
        // What the connection changed, for the container's next network:
        // off `none`, on this one.
        c.networks.remove("none");
        c.networks.entry(conn.network.clone()).or_default();
        Ok(made)
    }

    fn events(&self, containers: Vec<String>, networks: Vec<String>) -> BoxStream<'static, Result<String>> {
        let docker = match self.adapter() {
            Ok(d) => d.clone(),
            Err(e) => return futures::stream::once(async move { Err(e) }).boxed(),
        };
        let follow = |kind: &str, events: &[&str], names: Vec<String>| {
            let filters: HashMap<String, Vec<String>> = [
                ("type".to_string(), vec![kind.to_string()]),
                ("event".to_string(), events.iter().map(|e| e.to_string()).collect()),
                (kind.to_string(), names),
            ]
            .into();
            let socket = docker.socket().to_string();
            docker.bollard().events(Some(EventsOptions { since: None, until: None, filters: Some(filters) })).map(
                move |e| match e {
                    // The actor's `name`: the container's, or the network's.
                    Ok(m) => {
                        Ok(m.actor.and_then(|a| a.attributes).and_then(|a| a.get("name").cloned()).unwrap_or_default())
                    }
                    Err(e) => Err(Error::from_bollard("follow events", &socket, e)),
                },
            )
        };
        let mut streams = Vec::new();
        if !containers.is_empty() {
            streams.push(follow("container", &["start", "die", "destroy"], containers).boxed());
        }
        if !networks.is_empty() {
            streams.push(follow("network", &["connect", "disconnect", "destroy"], networks).boxed());
        }
        futures::stream::select_all(streams).boxed()
    }

    async fn disconnect(&self, network: &str, container: &str) -> Result<()> {
        self.adapter()?.leave(network, container).await
    }

    async fn remove_network(&self, name: &str, topology: &str, dry_run: bool) -> Result<bool> {
        let d = self.adapter()?;
        if dry_run {
            d.network_is_ours(name, topology).await
        } else {
            d.remove_network(name, topology).await
        }
    }
}

/// Docker's errors as the engine's: input errors and vlanmac-core's stay
/// themselves (invalid input is still invalid input), the rest are the
/// runtime's.
impl From<Error> for vlanmac_topology::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(c) => vlanmac_topology::Error::Core(c),
            Error::InvalidSpec(s) => vlanmac_topology::Error::Core(s.into()),
            other => vlanmac_topology::Error::Runtime { runtime: Docker::NAME, source: Box::new(other) },
        }
    }
}
