//! Topologies with Docker in them: networks with `docker: true` become
//! Docker networks, `container:` endpoints are attached through Docker
//! (on Docker networks) or directly (on the others), and everything is
//! verified and taken down like a namespace topology.
//!
//! Order of `apply`: the kernel side first (lab router, VLAN subinterfaces,
//! shims, non-Docker endpoints — vlanmac-core, with rollback), then the
//! Docker networks, then the containers connected in attachment order, so
//! the first attachment's gateways are their default routes.

use std::net::IpAddr;

use serde::Serialize;
use vlanmac_core::{
    topology::{
        apply::{desired_state, ApplyOptions, ApplyResult},
        down::DownResult,
        plan::Plan,
        EndpointNs, Topology,
    },
    verify::{self, VerifyReport},
    Shared,
};

use crate::{
    client::DockerAdapter,
    endpoint::EndpointRequest,
    error::{Error, Result},
    network::{DockerNetworkSpec, NetworkOutcome},
};

/// Whether `t` needs a Docker engine.
pub fn needs_docker(t: &Topology) -> bool {
    t.networks.iter().any(|n| n.docker) || t.endpoints.iter().any(|e| matches!(e.netns, EndpointNs::Container(_)))
}

/// `t` with its containers' PIDs filled in. With `lenient`, containers that
/// do not exist or do not run are left out (for `down`).
pub async fn resolve(t: &Topology, docker: &DockerAdapter, lenient: bool) -> Result<Topology> {
    let mut out = t.clone();
    let mut missing = Vec::new();
    for e in &t.endpoints {
        if let EndpointNs::Container(c) = &e.netns {
            match docker.container_pid(c).await {
                Ok(pid) => {
                    out.containers.insert(c.clone(), pid);
                }
                Err(err) if lenient => {
                    let _ = err;
                    missing.push(e.name.clone());
                }
                Err(err) => return Err(err),
            }
        }
    }
    out.endpoints.retain(|e| !missing.contains(&e.name));
    Ok(out)
}

/// What a Docker-aware apply did.
#[derive(Debug, Clone, Serialize)]
pub struct DockerApplyResult {
    /// The kernel side.
    pub core: ApplyResult,
    /// Docker networks and whether they were created.
    pub networks: Vec<(String, NetworkOutcome)>,
    /// `container -> network` connections made.
    pub connected: Vec<String>,
}

impl DockerApplyResult {
    /// Whether anything changed.
    pub fn changed(&self) -> bool {
        self.core.changed
            || !self.connected.is_empty()
            || self.networks.iter().any(|(_, o)| matches!(o, NetworkOutcome::Created(_)))
    }
}

/// The addresses IPAM gave a container's attachment, by (endpoint, index).
async fn requests(t: &Topology, shared: &Shared) -> Result<Vec<(String, String, String, EndpointRequest)>> {
    let (places, desired) = desired_state(t, shared).await?;
    let mut out = Vec::new();
    for e in &t.endpoints {
        let EndpointNs::Container(c) = &e.netns else { continue };
        let Some(place) = places.iter().position(|p| p.endpoint() == Some(e.name.as_str())) else { continue };
        for a in &e.attach {
            if !t.network(&a.network).is_some_and(|n| n.docker) {
                continue;
            }
            let addrs: Vec<IpAddr> = desired
                .addresses
                .iter()
                .filter(|(p, d, _)| *p == place && d == &a.ifname)
                .map(|(_, _, x)| x.addr())
                .collect();
            let req = EndpointRequest {
                ipv4: addrs.iter().copied().find(IpAddr::is_ipv4),
                ipv6: addrs.iter().copied().find(IpAddr::is_ipv6),
                mac: a.mac,
            };
            out.push((e.name.clone(), c.clone(), a.network.clone(), req));
        }
    }
    Ok(out)
}

/// `vlanmac apply` for a topology with Docker in it. If the Docker part
/// fails, what this apply did through Docker is undone and, if it changed
/// the kernel side, that is taken down too: nothing stays half-made.
pub async fn apply(t: &Topology, docker: &DockerAdapter, opts: &ApplyOptions) -> Result<DockerApplyResult> {
    let resolved = resolve(t, docker, false).await?;
    let core = resolved.apply(opts).await?;
    let mut networks = Vec::new();
    let mut connected: Vec<(String, String)> = Vec::new();
    let docker_part = async {
        for n in t.networks.iter().filter(|n| n.docker) {
            opts.interrupt.check(|| format!("docker network create {}", n.name))?;
            let outcome = docker.ensure_network(&DockerNetworkSpec::from_network(n, &t.name)).await?;
            networks.push((n.name.clone(), outcome));
        }
        for (_, container, network, req) in requests(&resolved, &opts.shared).await? {
            opts.interrupt.check(|| format!("docker network connect {network} {container}"))?;
            if docker.connect(&network, &container, &req).await? {
                connected.push((container, network));
            }
        }
        Ok::<(), Error>(())
    };
    if let Err(e) = docker_part.await {
        for (c, n) in connected.iter().rev() {
            let _ = docker.disconnect(n, c).await;
        }
        for (n, o) in &networks {
            if matches!(o, NetworkOutcome::Created(_)) {
                let _ = docker.remove_network(n, &t.name).await;
            }
        }
        if core.changed {
            let _ = resolved.down(&opts.shared).await;
        }
        return Err(e);
    }
    Ok(DockerApplyResult {
        core,
        networks,
        connected: connected.into_iter().map(|(c, n)| format!("{c} -> {n}")).collect(),
    })
}

/// `vlanmac plan` with Docker: the kernel side's plan, plus a `+` line per
/// Docker network or connection still to make.
pub async fn plan(t: &Topology, docker: &DockerAdapter, shared: &Shared) -> Result<(Plan, Vec<String>)> {
    let resolved = resolve(t, docker, false).await?;
    let plan = resolved.plan(shared).await?;
    let mut extra = Vec::new();
    for n in t.networks.iter().filter(|n| n.docker) {
        let spec = DockerNetworkSpec::from_network(n, &t.name);
        match docker.inspect_network(&n.name).await? {
            None => extra.push(format!("+ docker network {} ({} on {})", n.name, spec.driver, spec.options["parent"])),
            Some(have) => {
                let d = spec.differences(&have);
                if !d.is_empty() {
                    return Err(Error::Conflict { network: n.name.clone(), differences: d });
                }
            }
        }
    }
    for (_, container, network, req) in requests(&resolved, shared).await? {
        let now = docker.inspect(&container).await?;
        if !now.networks.contains_key(&network) {
            let ip = req.ipv4.map(|a| format!(" --ip {a}")).unwrap_or_default();
            let ip6 = req.ipv6.map(|a| format!(" --ip6 {a}")).unwrap_or_default();
            extra.push(format!("+ docker network connect{ip}{ip6} {network} {container}"));
        }
    }
    Ok((plan, extra))
}

/// `vlanmac verify` with Docker: containers are checked from inside their
/// namespaces like any endpoint.
pub async fn verify(t: &Topology, docker: &DockerAdapter, shared: &Shared) -> Result<VerifyReport> {
    let resolved = resolve(t, docker, false).await?;
    Ok(verify::verify(&resolved, shared).await?)
}

/// `vlanmac down` with Docker: containers leave this topology's Docker
/// networks, the networks it created go, then the kernel side (a VLAN
/// subinterface only with its last user).
pub async fn down(t: &Topology, docker: &DockerAdapter, shared: &Shared) -> Result<(DownResult, Vec<String>)> {
    let resolved = resolve(t, docker, true).await?;
    let mut removed = Vec::new();
    for e in &t.endpoints {
        let EndpointNs::Container(c) = &e.netns else { continue };
        for a in &e.attach {
            let ours = t.network(&a.network).is_some_and(|n| n.docker);
            if ours && matches!(docker.disconnect(&a.network, c).await, Ok(true)) {
                removed.push(format!("docker network disconnect {} {c}", a.network));
            }
        }
    }
    for n in t.networks.iter().filter(|n| n.docker) {
        if docker.remove_network(&n.name, &t.name).await? {
            removed.push(format!("docker network rm {}", n.name));
        }
    }
    let core = resolved.down(shared).await?;
    Ok((core, removed))
}
