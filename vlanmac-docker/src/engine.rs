//! [`Engine`]: the one entry for `plan`, `apply`, `verify` and `down` of a
//! topology, with or without Docker in it. The CLI, the Python package and
//! the Ansible module call it and nothing else.
//!
//! Networks with `docker: true` become Docker networks, `container:`
//! endpoints are attached through Docker (on Docker networks) or directly
//! (on the others), and everything is verified and taken down like a
//! namespace topology. The results are vlanmac-core's types; what Docker
//! does appears in them as rows of their own (`+ docker network v10`).
//!
//! Order of `apply`: the kernel side first (lab router, VLAN subinterfaces,
//! shims, non-Docker endpoints — vlanmac-core, with rollback), then the
//! Docker networks, then the containers connected in attachment order, so
//! the first attachment's gateways are their default routes.

use std::{collections::BTreeMap, net::IpAddr};

use vlanmac_core::{
    privileges::require_admin,
    topology::{ApplyResult, Change, DownResult, EndpointAddress, EndpointNs, Options, Plan, Sign, Topology},
    verify::VerifyReport,
};

use crate::{
    client::DockerAdapter,
    endpoint::{ContainerNetworks, EndpointRequest},
    error::{Error, Result},
    network::{DockerNetworkSpec, NetworkOutcome},
};

/// How many containers are inspected at once. (Connections are made one
/// after the other: the daemon serializes them.)
const DOCKER_CALLS_AT_ONCE: usize = 8;

/// The namespace column of Docker's rows in plans and results.
pub const DOCKER_ROWS: &str = "docker";

/// A topology and the Docker engine it needs (if any); see the module
/// documentation.
///
/// ```no_run
/// # async fn f() -> vlanmac_docker::Result<()> {
/// use vlanmac_core::topology::{self, Options};
/// use vlanmac_docker::Engine;
///
/// let engine = Engine::new(topology::from_path("examples/seed-docker.yaml".as_ref())?);
/// let opts = Options::default();
/// print!("{}", engine.plan(&opts).await?);            // vlanmac plan
/// let applied = engine.apply(&opts).await?;           // vlanmac apply
/// assert!(engine.verify(&opts).await?.passed());       // vlanmac verify
/// print!("{}", engine.down(&opts).await?.to_text());  // vlanmac down
/// # drop(applied); Ok(()) }
/// ```
pub struct Engine {
    topology: Topology,
    docker: Option<DockerAdapter>,
}

/// One container attachment on a Docker network, with the addresses IPAM
/// gave it.
struct Attachment {
    container: String,
    network: String,
    request: EndpointRequest,
}

impl Engine {
    /// An engine for `topology`; when it needs Docker, the daemon at
    /// `$DOCKER_HOST` (or the default socket) is opened by each verb.
    pub fn new(topology: Topology) -> Engine {
        Engine { topology, docker: None }
    }

    /// An engine that uses `docker` for the Docker side.
    pub fn with_docker(topology: Topology, docker: DockerAdapter) -> Engine {
        Engine { topology, docker: Some(docker) }
    }

    /// The topology.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Whether the topology needs a Docker engine.
    pub fn needs_docker(&self) -> bool {
        needs_docker(&self.topology)
    }

    /// The privilege check of `verb` (before anything is touched), then the
    /// Docker engine when the topology needs one.
    async fn start(&self, verb: &str) -> Result<Option<DockerAdapter>> {
        require_admin(&format!("{verb} topology {}", self.topology.name))?;
        Ok(match (&self.docker, self.needs_docker()) {
            (_, false) => None,
            (Some(d), true) => Some(d.clone()),
            (None, true) => Some(DockerAdapter::open().await?),
        })
    }

    /// `vlanmac plan`: the kernel side's changes, then a row per Docker
    /// network or connection still to make. Changes nothing.
    pub async fn plan(&self, opts: &Options) -> Result<Plan> {
        let Some(docker) = self.start("plan").await? else {
            return Ok(self.topology.plan(opts).await?);
        };
        let t = &self.topology;
        let (resolved, views) = resolve_inspected(t, &docker, Missing::Fail).await?;
        // The kernel read once: the plan, and the addresses to ask Docker for.
        let (mut plan, assigned) = resolved.plan_with_addresses(opts).await?;
        for n in t.networks.iter().filter(|n| n.docker) {
            let spec = DockerNetworkSpec::from_network(n, &t.name);
            match docker.inspect_network(&n.name).await? {
                None => plan.changes.push(network_row(&spec)),
                Some(have) => {
                    let d = spec.differences(&have);
                    if !d.is_empty() {
                        return Err(Error::Conflict { network: n.name.clone(), differences: d });
                    }
                }
            }
        }
        // Each container as the resolve inspected it.
        for a in attachments(t, &assigned) {
            if !views.get(&a.container).is_some_and(|v| v.networks.contains_key(&a.network)) {
                plan.changes.push(connect_row(&a));
            }
        }
        Ok(plan)
    }

    /// `vlanmac apply`. If the Docker part fails, what this apply did
    /// through Docker is undone and, if it changed the kernel side, that is
    /// taken down too: nothing stays half-made.
    pub async fn apply(&self, opts: &Options) -> Result<ApplyResult> {
        let Some(docker) = self.start("apply").await? else {
            return Ok(self.topology.apply(opts).await?);
        };
        let t = &self.topology;
        let (resolved, mut views) = resolve_inspected(t, &docker, Missing::Fail).await?;
        let mut result = resolved.apply(opts).await?;
        // The addresses to ask Docker for: those the apply reports (IPAM
        // resolved when it read the kernel), not a second read.
        let wanted = attachments(t, &result.addresses);
        let mut networks: Vec<(&str, NetworkOutcome, Change)> = Vec::new();
        let mut connected: Vec<Attachment> = Vec::new();
        let docker_part = async {
            // Networks do not depend on each other: created all at once.
            let made = futures::future::join_all(t.networks.iter().filter(|n| n.docker).map(|n| async {
                opts.interrupt.check(|| format!("docker network create {}", n.name))?;
                let spec = DockerNetworkSpec::from_network(n, &t.name);
                let outcome = docker.ensure_network(&spec).await?;
                Ok::<_, Error>((n.name.as_str(), outcome, network_row(&spec)))
            }))
            .await;
            let mut first_error: Option<Error> = None;
            for m in made {
                match m {
                    Ok(n) => networks.push(n),
                    Err(e) => first_error = first_error.or(Some(e)),
                }
            }
            if let Some(e) = first_error {
                return Err(e);
            }
            // Each network's subnets, read once for all its connections.
            let docker = &docker;
            let subnets = futures::future::try_join_all(
                networks
                    .iter()
                    .map(|(n, _, _)| async move { Ok::<_, Error>((n.to_string(), docker.network_subnets(n).await?)) }),
            )
            .await?;
            let subnets: BTreeMap<String, Vec<ipnet::IpNet>> = subnets.into_iter().collect();
            let views = &mut views;
            // One after the other: the daemon configures one connection at
            // a time, and calls made in parallel only wait for each other
            // (measured: 2 at a time made 40 connections 2.4x slower).
            for a in wanted {
                opts.interrupt.check(|| format!("docker network connect {} {}", a.network, a.container))?;
                // Every container was inspected (a missing one failed the
                // resolve) and every Docker network's subnets read above.
                let (Some(view), Some(nets)) = (views.get_mut(&a.container), subnets.get(&a.network)) else {
                    let what = format!("no view of container {} or subnets of network {}", a.container, a.network);
                    return Err(Error::Core(vlanmac_core::Error::Internal(what)));
                };
                let made = docker.connect_known(&a.network, view, &a.request, nets).await?;
                // What the connection changed, for the container's next
                // network: off `none`, on this one.
                view.networks.remove("none");
                view.networks.entry(a.network.clone()).or_default();
                if made {
                    connected.push(a);
                }
            }
            Ok(())
        };
        if let Err(e) = docker_part.await {
            for a in connected.iter().rev() {
                let _ = docker.disconnect(&a.network, &a.container).await;
            }
            for (n, o, _) in &networks {
                if matches!(o, NetworkOutcome::Created(_)) {
                    let _ = docker.remove_network(n, &t.name).await;
                }
            }
            if result.changed {
                let _ = resolved.down(opts).await;
            }
            return Err(e);
        }
        let created = networks.into_iter().filter(|(_, o, _)| matches!(o, NetworkOutcome::Created(_)));
        result.changes.extend(created.map(|(_, _, row)| row));
        result.changes.extend(connected.iter().map(connect_row));
        result.changed = !result.changes.is_empty();
        Ok(result)
    }

    /// `vlanmac verify`: containers are checked from inside their
    /// namespaces like any endpoint; a container that is gone or stopped
    /// fails its checks (its namespace and links read as missing) and the
    /// rest is still checked.
    pub async fn verify(&self, opts: &Options) -> Result<VerifyReport> {
        Ok(match self.start("verify").await? {
            Some(docker) => resolve(&self.topology, &docker, Missing::Keep).await?.verify(opts).await?,
            None => self.topology.verify(opts).await?,
        })
    }

    /// `vlanmac down`: containers leave this topology's Docker networks,
    /// the networks it created go, then the kernel side (a VLAN
    /// subinterface only with its last user).
    pub async fn down(&self, opts: &Options) -> Result<DownResult> {
        let Some(docker) = self.start("take down").await? else {
            return Ok(self.topology.down(opts).await?);
        };
        let t = &self.topology;
        // Each container inspected once: what resolving it read.
        let (resolved, views) = resolve_inspected(t, &docker, Missing::Drop).await?;
        let dry = opts.dry_run;
        let mut removed = Vec::new();
        for e in &t.endpoints {
            let EndpointNs::Container(c) = &e.netns else { continue };
            let Some(view) = views.get(c) else { continue };
            for a in &e.attach {
                let ours = t.network(&a.network).is_some_and(|n| n.docker);
                if !ours || !view.networks.contains_key(&a.network) {
                    continue;
                }
                // As `docker network disconnect`: one that fails (the
                // container went meanwhile) is not reported as removed.
                if dry || docker.leave(&a.network, c).await.is_ok() {
                    removed.push(format!("docker network disconnect {} {c}", a.network));
                }
            }
        }
        for n in t.networks.iter().filter(|n| n.docker) {
            let gone = if dry {
                docker.network_is_ours(&n.name, &t.name).await?
            } else {
                docker.remove_network(&n.name, &t.name).await?
            };
            if gone {
                removed.push(format!("docker network rm {}", n.name));
            }
        }
        let mut result = resolved.down(opts).await?;
        result.removed.splice(0..0, removed);
        Ok(result)
    }
}

/// Whether `t` has Docker networks or container endpoints (then its verbs
/// need a Docker daemon).
pub fn needs_docker(t: &Topology) -> bool {
    t.networks.iter().any(|n| n.docker) || t.endpoints.iter().any(|e| matches!(e.netns, EndpointNs::Container(_)))
}

fn network_row(spec: &DockerNetworkSpec) -> Change {
    let parent = spec.options.get("parent").map(String::as_str).unwrap_or("-");
    Change::external(
        Sign::Create,
        DOCKER_ROWS,
        format!("network {}", spec.name),
        format!("{} on {parent}", spec.driver),
    )
}

fn connect_row(a: &Attachment) -> Change {
    let ip = a.request.ipv4.map(|x| format!("--ip {x}"));
    let ip6 = a.request.ipv6.map(|x| format!("--ip6 {x}"));
    let detail: Vec<String> = ip.into_iter().chain(ip6).collect();
    Change::external(Sign::Create, DOCKER_ROWS, format!("connect {} -> {}", a.container, a.network), detail.join(" "))
}

/// What [`resolve`] does with a container that does not exist or does not
/// run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// Fails (plan, apply: nothing can be made in it).
    Fail,
    /// Leaves its endpoint out (down: nothing to remove there).
    Drop,
    /// Keeps its endpoint unresolved, which the core's verify reports as
    /// missing.
    Keep,
}

/// `t` as the core gets it: each container endpoint in its container's
/// namespace (by PID), its attachments to Docker networks marked as made by
/// Docker (only verified by the core).
async fn resolve(t: &Topology, docker: &DockerAdapter, missing_containers: Missing) -> Result<Topology> {
    Ok(resolve_inspected(t, docker, missing_containers).await?.0)
}

/// [`resolve`], also returning each container as `docker inspect` showed it
/// (by the name the topology gives it).
async fn resolve_inspected(
    t: &Topology,
    docker: &DockerAdapter,
    missing_containers: Missing,
) -> Result<(Topology, BTreeMap<String, ContainerNetworks>)> {
    // The containers inspected DOCKER_CALLS_AT_ONCE at a time.
    let names: Vec<String> = t
        .endpoints
        .iter()
        .filter_map(|e| if let EndpointNs::Container(c) = &e.netns { Some(c.clone()) } else { None })
        .collect();
    let mut seen: Vec<Result<ContainerNetworks>> = Vec::with_capacity(names.len());
    for chunk in names.chunks(DOCKER_CALLS_AT_ONCE) {
        seen.extend(futures::future::join_all(chunk.iter().map(|c| docker.inspect(c))).await);
    }
    let mut views = BTreeMap::new();
    let mut out = t.clone();
    let mut missing = Vec::new();
    // In endpoint order, as they were inspected.
    let mut seen = seen.into_iter();
    for e in &mut out.endpoints {
        let EndpointNs::Container(c) = &e.netns else { continue };
        let pid = match seen.next() {
            Some(Ok(view)) => {
                let pid = view.pid;
                views.insert(c.clone(), view);
                pid.ok_or_else(|| Error::Docker {
                    op: format!("find the namespace of container {c}"),
                    status: 409,
                    message: "the container is not running".into(),
                })
            }
            Some(Err(e)) => Err(e),
            None => Err(Error::Core(vlanmac_core::Error::Internal("a container was not inspected".into()))),
        };
        match pid {
            Ok(pid) => e.netns = EndpointNs::Pid(pid),
            Err(_) if missing_containers == Missing::Drop => missing.push(e.name.clone()),
            Err(_) if missing_containers == Missing::Keep => {}
            Err(err) => return Err(err),
        }
        for a in &mut e.attach {
            a.external = t.network(&a.network).is_some_and(|n| n.docker);
        }
    }
    out.endpoints.retain(|e| !missing.contains(&e.name));
    Ok((out, views))
}

/// The containers' attachments to Docker networks (as `t` names them), in
/// attachment order, with the addresses IPAM gives them (`assigned`).
fn attachments(t: &Topology, assigned: &[EndpointAddress]) -> Vec<Attachment> {
    let mut out = Vec::new();
    for e in &t.endpoints {
        let EndpointNs::Container(c) = &e.netns else { continue };
        for a in &e.attach {
            if !t.network(&a.network).is_some_and(|n| n.docker) {
                continue;
            }
            let addrs: Vec<IpAddr> = assigned
                .iter()
                .filter(|x| x.endpoint == e.name && x.interface == a.ifname.as_str())
                .map(|x| x.address)
                .collect();
            let request = EndpointRequest {
                ipv4: addrs.iter().copied().find(IpAddr::is_ipv4),
                ipv6: addrs.iter().copied().find(IpAddr::is_ipv6),
                mac: a.mac,
            };
            out.push(Attachment { container: c.clone(), network: a.network.clone(), request });
        }
    }
    out
}
