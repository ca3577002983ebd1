//! # vlanmac-docker
//!
//! Docker's side of vlanmac, on bollard: macvlan and ipvlan networks built
//! from topology networks (`docker network create -d macvlan -o parent=eth0.10
//! --subnet ... --gateway ... --ipv6`), containers connected with static
//! addresses (`docker network connect --ip --ip6`), a typed `docker inspect`
//! view, pipework-style direct attachment of a macvlan into a
//! container's namespace through vlanmac-core, and [`Docker`]: Docker as
//! the container runtime under vlanmac-topology's `Engine`.
//!
//! ```no_run
//! # async fn f() -> vlanmac_docker::Result<()> {
//! use vlanmac_docker::{DockerAdapter, DockerNetworkSpec, EndpointRequest};
//! let docker = DockerAdapter::open().await?; // $DOCKER_HOST or /var/run/docker.sock
//! let t = vlanmac_topology::from_path("examples/seed.yaml".as_ref())?;
//! for n in &t.networks {
//!     docker.ensure_network(&DockerNetworkSpec::from_network(n, &t.name)).await?;
//! }
//! let req = EndpointRequest { ipv4: Some("10.0.20.3".parse().unwrap()), ipv6: Some("2001:db8:babe:20::3".parse().unwrap()), mac: None };
//! docker.connect("macvlan20", "container1", &req).await?; // docker network connect --ip ... --ip6 ...
//! println!("{:?}", docker.inspect("container1").await?.networks);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod client;
mod container;
mod direct;
mod endpoint;
mod error;
mod network;
mod runtime;

pub use client::{DockerAdapter, TlsFiles, DEFAULT_SOCKET, TIMEOUT_SECS};
pub use direct::{DirectAttach, ATTACH_MARK};
pub use endpoint::{ContainerNetworks, EndpointRequest, EndpointView};
pub use error::{Error, Result};
pub use network::{DockerNetworkSpec, DockerSubnet, NetworkOutcome, LABEL_TOPOLOGY};
pub use runtime::{Docker, ReadyNetwork};

use vlanmac_core::spec::{IfName, SpecError, VlanId};

/// The `-o parent=` value Docker's macvlan/ipvlan driver takes for a network
/// on `parent`, tagged with `vlan` if given: `eth0` + 10 → `eth0.10` (the
/// driver then creates that VLAN subinterface itself when missing).
pub fn docker_parent(parent: &IfName, vlan: Option<VlanId>) -> Result<IfName, SpecError> {
    match vlan {
        Some(id) => parent.vlan_child(id),
        None => Ok(parent.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_names() {
        let eth0 = IfName::new("eth0").unwrap();
        assert_eq!(docker_parent(&eth0, VlanId::new(10).ok()).unwrap().as_str(), "eth0.10");
        assert_eq!(docker_parent(&eth0, None).unwrap().as_str(), "eth0");
    }
}
