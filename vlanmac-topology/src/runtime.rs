//! [`ContainerRuntime`]: what the [`Engine`](crate::Engine) needs of a
//! container runtime — resolve a container to its namespace; create,
//! compare and remove the runtime's own networks; connect and disconnect
//! containers with static addresses. vlanmac-docker implements it for
//! Docker; [`NoRuntime`] is the engine's default for topologies of
//! namespaces only. A runtime decides nothing about what to plan: the
//! engine does.

use std::{future::Future, net::IpAddr};

use futures::stream::{BoxStream, StreamExt};

use vlanmac_core::spec::MacAddr;

use crate::Network;

/// How a runtime network compares with the topology's network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkState {
    /// The runtime has no network of that name.
    Missing,
    /// It exists as the topology says.
    Matches,
    /// It exists with another configuration: each difference as
    /// `field: existing X, wanted Y`. The engine refuses to go on.
    Differs(Vec<String>),
}

/// A container to connect to a runtime network, with the addresses IPAM
/// gave it (`docker network connect --ip A --ip6 B NETWORK CONTAINER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The runtime network (the topology network's name).
    pub network: String,
    /// The container, as the topology names it.
    pub container: String,
    /// The static IPv4 address.
    pub ipv4: Option<IpAddr>,
    /// The static IPv6 address.
    pub ipv6: Option<IpAddr>,
    /// The MAC address, when the topology gives one.
    pub mac: Option<MacAddr>,
}

/// A container runtime under the engine (see the module documentation).
/// Its methods are called only for topologies that need a runtime
/// (container endpoints, or networks with `docker: true`), after the
/// engine's privilege check and [`ContainerRuntime::start`].
pub trait ContainerRuntime: Send + Sync {
    /// The runtime's own error type.
    type Error: std::error::Error + Send + Sync + 'static;
    /// A container as the runtime shows it (its main process, its networks).
    type Container: Send + Sync;
    /// A runtime network ready for connections (what connecting needs of
    /// it, read once for all its connections).
    type Network: Send + Sync;

    /// The runtime's name in plan rows and messages: `docker`.
    const NAME: &'static str;
    /// Whether this is a runtime at all ([`NoRuntime`] is not).
    const PRESENT: bool = true;

    /// Gets ready for one command (Docker: connects to the daemon). Called
    /// once per engine verb, only when the topology needs a runtime.
    fn start(&self) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// The container called `name` (`docker inspect NAME`); an error if
    /// there is none.
    fn container(&self, name: &str) -> impl Future<Output = Result<Self::Container, Self::Error>> + Send;

    /// The PID of the container's main process, if it runs: its namespaces
    /// are `/proc/PID/ns/*`.
    fn pid(&self, c: &Self::Container) -> Option<u32>;

    /// Whether the container is on runtime network `network`.
    fn is_on(&self, c: &Self::Container, network: &str) -> bool;

    /// The plan row's text for making runtime network `n`: (what, detail),
    /// e.g. (`network v10`, `macvlan on eth0.10`).
    fn network_row(&self, n: &Network, topology: &str) -> (String, String);

    /// How runtime network `n` of `topology` compares with what the
    /// runtime holds.
    fn network_state(
        &self,
        n: &Network,
        topology: &str,
    ) -> impl Future<Output = Result<NetworkState, Self::Error>> + Send;

    /// Makes runtime network `n` of `topology` unless it exists as it
    /// should (a difference is an error); whether it was created, and the
    /// network ready for connections.
    fn ensure_network(
        &self,
        n: &Network,
        topology: &str,
    ) -> impl Future<Output = Result<(bool, Self::Network), Self::Error>> + Send;

    /// Connects container `c` as `conn` says (on `net`, the network
    /// `ensure_network` returned for `conn.network`), and updates `c` to
    /// what the connection changed. `false`: it was connected already, with
    /// these addresses; connected with others is an error.
    fn connect(
        &self,
        net: &Self::Network,
        c: &mut Self::Container,
        conn: &Connection,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// Disconnects container `container` from `network` (`docker network
    /// disconnect`).
    fn disconnect(&self, network: &str, container: &str) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// The runtime's events (`docker events`) about the containers called
    /// `containers` (started, died, destroyed) and the runtime networks
    /// called `networks` (a container connected or disconnected, the
    /// network removed), each the name of the container or network, for as
    /// long as the stream is read: what the agent follows restarts and lost
    /// attachments with. Called after [`ContainerRuntime::start`]. A
    /// runtime without events yields nothing.
    fn events(
        &self,
        containers: Vec<String>,
        networks: Vec<String>,
    ) -> BoxStream<'static, Result<String, Self::Error>> {
        let _ = (containers, networks);
        futures::stream::pending().boxed()
    }

    /// Removes runtime network `name` if `topology` made it; with
    /// `dry_run`, only says whether it would. Whether it (would have) gone.
    fn remove_network(
        &self,
        name: &str,
        topology: &str,
        dry_run: bool,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}

/// No container runtime: the engine's default, for topologies of
/// namespaces only. A topology that needs a runtime fails with
/// [`Error::NoRuntime`](crate::Error::NoRuntime) before anything is done.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRuntime;

/// What [`NoRuntime`] would answer, were it ever asked.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no container runtime")]
pub struct NoRuntimeError;

impl ContainerRuntime for NoRuntime {
    type Error = NoRuntimeError;
    type Container = ();
    type Network = ();
    const NAME: &'static str = "none";
    const PRESENT: bool = false;

    async fn start(&self) -> Result<(), NoRuntimeError> {
        Err(NoRuntimeError)
    }

    async fn container(&self, _: &str) -> Result<(), NoRuntimeError> {
        Err(NoRuntimeError)
    }

    fn pid(&self, _: &()) -> Option<u32> {
        None
    }

    fn is_on(&self, _: &(), _: &str) -> bool {
        false
    }

    fn network_row(&self, n: &Network, _: &str) -> (String, String) {
        (format!("network {}", n.name), String::new())
    }

    async fn network_state(&self, _: &Network, _: &str) -> Result<NetworkState, NoRuntimeError> {
        Err(NoRuntimeError)
    }

    async fn ensure_network(&self, _: &Network, _: &str) -> Result<(bool, ()), NoRuntimeError> {
        Err(NoRuntimeError)
    }

    async fn connect(&self, _: &(), _: &mut (), _: &Connection) -> Result<bool, NoRuntimeError> {
        Err(NoRuntimeError)
    }

    async fn disconnect(&self, _: &str, _: &str) -> Result<(), NoRuntimeError> {
        Err(NoRuntimeError)
    }

    async fn remove_network(&self, _: &str, _: &str, _: bool) -> Result<bool, NoRuntimeError> {
        Err(NoRuntimeError)
    }
}
