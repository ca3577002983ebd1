//! [`Engine`]: the one entry for `plan`, `apply`, `verify` and `down` of a
//! topology, with a container runtime under it or none. The CLI, the
//! Python package, the Ansible module and the agent call it and nothing
//! else; it checks privileges once per command.
//!
//! Networks with `docker: true` become runtime networks, `container:`
//! endpoints are attached through the runtime (on runtime networks) or
//! directly into the container's namespace (on the others), and everything
//! is verified and taken down like a namespace topology. What the runtime
//! does appears in the results as rows of their own (`+ docker network
//! v10`).
//!
//! Order of `apply`: the kernel side first (lab router, VLAN subinterfaces,
//! shims, endpoints in namespaces and containers' direct attachments, with
//! rollback), then the runtime networks, then the containers connected in
//! attachment order, so the first attachment's gateways are their default
//! routes.

use std::{collections::BTreeMap, net::IpAddr};

use vlanmac_core::privileges::require_admin;

use crate::{
    apply, down,
    error::{Error, Result},
    reading,
    runtime::{Connection, ContainerRuntime, NetworkState, NoRuntime},
    verify::{self, VerifyReport},
    ApplyResult, Change, DownResult, EndpointAddress, EndpointNs, Options, Plan, Sign, Topology,
};

/// How many containers are inspected at once. (Connections are made one
/// after the other: a runtime such as Docker's daemon serializes them.)
const CONTAINERS_AT_ONCE: usize = 8;

/// A topology and the container runtime it may need; see the module
/// documentation.
///
/// ```no_run
/// # async fn f() -> vlanmac_topology::Result<()> {
/// use vlanmac_topology::{Engine, Options};
///
/// let engine = Engine::new(vlanmac_topology::from_path("examples/seed.yaml".as_ref())?);
/// let opts = Options::default();
/// print!("{}", engine.plan(&opts).await?);            // vlanmac plan
/// let applied = engine.apply(&opts).await?;           // vlanmac apply
/// assert!(engine.verify(&opts).await?.passed());       // vlanmac verify
/// print!("{}", engine.down(&opts).await?.to_text());  // vlanmac down
/// # drop(applied); Ok(()) }
/// ```
pub struct Engine<R: ContainerRuntime = NoRuntime> {
    topology: Topology,
    runtime: R,
}

impl Engine<NoRuntime> {
    /// An engine without a container runtime: for topologies of namespaces
    /// only (one with containers fails with [`Error::NoRuntime`]).
    pub fn new(topology: Topology) -> Self {
        Engine { topology, runtime: NoRuntime }
    }
}

impl<R: ContainerRuntime> Engine<R> {
    /// An engine that uses `runtime` for the topology's containers and
    /// runtime networks (it is only started when the topology has any).
    pub fn with_runtime(topology: Topology, runtime: R) -> Self {
        Engine { topology, runtime }
    }

    /// The topology.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The container runtime.
    pub fn runtime(&self) -> &R {
        &self.runtime
    }

    /// The privilege check of `verb` (before anything is touched), then the
    /// runtime's start when the topology needs one; whether it does.
    async fn start(&self, verb: &str) -> Result<bool> {
        require_admin(&format!("{verb} topology {}", self.topology.name))?;
        let Some(needs) = self.topology.runtime_needs() else { return Ok(false) };
        if !R::PRESENT {
            return Err(Error::NoRuntime { topology: self.topology.name.clone(), needs });
        }
        self.runtime.start().await.map_err(runtime_error::<R>)?;
        Ok(true)
    }

    /// `vlanmac plan`: the kernel side's changes, then a row per runtime
    /// network or connection still to make. Changes nothing.
    pub async fn plan(&self, opts: &Options) -> Result<Plan> {
        if !self.start("plan").await? {
            return Ok(reading::plan_topology(&self.topology, &opts.shared).await?.0);
        }
        let t = &self.topology;
        let (resolved, views) = self.resolve(Missing::Fail).await?;
        // The kernel read once: the plan, and the addresses to ask for.
        let (mut plan, assigned) = reading::plan_topology(&resolved, &opts.shared).await?;
        for n in t.networks.iter().filter(|n| n.docker) {
            match self.runtime.network_state(n, &t.name).await.map_err(runtime_error::<R>)? {
                NetworkState::Missing => plan.changes.push(self.network_row(n)),
                NetworkState::Matches => {}
                NetworkState::Differs(differences) => {
                    return Err(Error::NetworkConflict { runtime: R::NAME, network: n.name.clone(), differences })
                }
            }
        }
        // Each container as the resolve saw it.
        for c in connections(t, &assigned) {
            if !views.get(&c.container).is_some_and(|v| self.runtime.is_on(v, &c.network)) {
                plan.changes.push(connect_row::<R>(&c));
            }
        }
        Ok(plan)
    }

    /// `vlanmac apply FILE --confirm DURATION`: a checkpoint first
    /// (`/run/vlanmac/NAME/checkpoint`, see [`crate::checkpoint`]), then
    /// the apply; the change stays only if [`Pending::confirm`] comes
    /// within `confirm.timeout` after the apply. The rollback at the
    /// deadline is someone else's job (the CLI's watchdog, a later
    /// `vlanmac` command, [`crate::checkpoint::watch`]): this returns once
    /// the apply is done. Refused while another change of the topology
    /// waits for confirmation, and for topologies with Docker parts (not
    /// checkpointed).
    pub async fn apply_confirmed(&self, opts: &Options, confirm: crate::checkpoint::Confirm) -> Result<Pending> {
        use crate::checkpoint;
        let t = &self.topology;
        if let Some(needs) = t.runtime_needs() {
            return Err(vlanmac_core::spec::SpecError::new(
                "confirm",
                needs,
                "is not checkpointed: a confirmed apply takes topologies without Docker parts",
            )
            .into());
        }
        if let Some(c) = checkpoint::load(&t.name).filter(|c| c.state == checkpoint::State::Pending) {
            return Err(vlanmac_core::Error::Conflict(format!(
                "a change of topology {} waits for confirmation until {} (unix time): \
                 `vlanmac confirm {}` or `vlanmac rollback {}` first",
                t.name, c.deadline, t.name, t.name
            ))
            .into());
        }
        let timeout = confirm.timeout;
        let opts = Options { confirm: Some(confirm), ..opts.clone() };
        match apply::apply(t, &opts).await {
            Ok(result) => {
                let deadline = checkpoint::start_clock(&t.name, timeout).await?;
                Ok(Pending { topology: t.name.clone(), deadline, result })
            }
            Err(e) => {
                checkpoint::failed_apply(&t.name, &e).await?;
                Err(e.into())
            }
        }
    }

    /// `vlanmac apply`. If the runtime's part fails, what this apply did
    /// through the runtime is undone and, if it changed the kernel side,
    /// that is taken down too: nothing stays half-made.
    pub async fn apply(&self, opts: &Options) -> Result<ApplyResult> {
        if !self.start("apply").await? {
            return Ok(apply::apply(&self.topology, opts).await?);
        }
        let t = &self.topology;
        let (resolved, mut views) = self.resolve(Missing::Fail).await?;
        let mut result = apply::apply(&resolved, opts).await?;
        // The addresses to ask for: those the apply reports (IPAM resolved
        // when it read the kernel), not a second read.
        let wanted = connections(t, &result.addresses);
        let mut networks: Vec<(&str, bool, R::Network)> = Vec::new();
        let mut connected: Vec<Connection> = Vec::new();
        let runtime_part = async {
            // Networks do not depend on each other: made all at once.
            let made = futures::future::join_all(t.networks.iter().filter(|n| n.docker).map(|n| async {
                opts.interrupt.check(|| format!("{} network create {}", R::NAME, n.name))?;
                let (created, ready) = self.runtime.ensure_network(n, &t.name).await.map_err(runtime_error::<R>)?;
                Ok::<_, Error>((n.name.as_str(), created, ready))
            }))
            .await;
            let mut first_error = None;
            for m in made {
                match m {
                    Ok(n) => networks.push(n),
                    Err(e) => first_error = first_error.or(Some(e)),
                }
            }
            if let Some(e) = first_error {
                return Err(e);
            }
            // One after the other: Docker's daemon configures one connection
            // at a time, and calls made in parallel only wait for each other
            // (measured: 2 at a time made 40 connections 2.4x slower).
            for c in wanted {
                opts.interrupt.check(|| format!("{} network connect {} {}", R::NAME, c.network, c.container))?;
                // Every container was inspected (a missing one failed the
                // resolve) and every runtime network made above.
                let net = networks.iter().find(|(n, _, _)| *n == c.network).map(|(_, _, ready)| ready);
                let (Some(view), Some(net)) = (views.get_mut(&c.container), net) else {
                    let what = format!("no view of container {} or of network {}", c.container, c.network);
                    return Err(Error::Core(vlanmac_core::Error::Internal(what)));
                };
                if self.runtime.connect(net, view, &c).await.map_err(runtime_error::<R>)? {
                    connected.push(c);
                }
            }
            Ok(())
        };
        if let Err(e) = runtime_part.await {
            for c in connected.iter().rev() {
                let _ = self.runtime.disconnect(&c.network, &c.container).await;
            }
            for (n, created, _) in &networks {
                if *created {
                    let _ = self.runtime.remove_network(n, &t.name, false).await;
                }
            }
            if result.changed {
                let _ = down::down(&resolved, opts).await;
            }
            return Err(e);
        }
        for (n, created, _) in &networks {
            if let (true, Some(net)) = (created, t.network(n)) {
                result.changes.push(self.network_row(net));
            }
        }
        result.changes.extend(connected.iter().map(connect_row::<R>));
        result.changed = !result.changes.is_empty();
        Ok(result)
    }

    /// `vlanmac verify`: containers are checked from inside their
    /// namespaces like any endpoint; a container that is gone or stopped
    /// fails its checks (its namespace and links read as missing) and the
    /// rest is still checked.
    pub async fn verify(&self, opts: &Options) -> Result<VerifyReport> {
        if !self.start("verify").await? {
            let observed = reading::observe_for_verify(&self.topology, &opts.shared).await?;
            return Ok(verify::verify(&self.topology, observed, opts).await?);
        }
        let (resolved, _) = self.resolve(Missing::Keep).await?;
        let observed = reading::observe_for_verify(&resolved, &opts.shared).await?;
        Ok(verify::verify(&resolved, observed, opts).await?)
    }

    /// Looks after the topology's DHCP leases as their timers say (the
    /// agent calls it): renews from T1, rebinds from T2, asks anew once a
    /// lease expired; each granted lease installed and stored. Returns what
    /// it did and when to call it again (seconds since the epoch; `None`:
    /// no lease to look after).
    pub async fn renew_leases(&self, opts: &Options) -> Result<(Vec<crate::leases::Renewal>, Option<u64>)> {
        let t = if self.topology.runtime_needs().is_some() {
            self.resolve(Missing::Keep).await?.0
        } else {
            self.topology.clone()
        };
        let places = crate::places::places_allowing_absent(&t);
        Ok(crate::leases::maintain(&t, &places, &opts.shared).await?)
    }

    /// `vlanmac down`: containers leave this topology's runtime networks,
    /// the networks it created go, then the kernel side (a VLAN
    /// subinterface only with its last user).
    pub async fn down(&self, opts: &Options) -> Result<DownResult> {
        if !self.start("take down").await? {
            return Ok(down::down(&self.topology, opts).await?);
        }
        let t = &self.topology;
        // Each container inspected once: what resolving it read.
        let (resolved, views) = self.resolve(Missing::Drop).await?;
        let dry = opts.dry_run;
        let mut removed = Vec::new();
        for e in &t.endpoints {
            let EndpointNs::Container(c) = &e.netns else { continue };
            let Some(view) = views.get(c) else { continue };
            for a in &e.attach {
                let ours = t.network(&a.network).is_some_and(|n| n.docker);
                if !ours || !self.runtime.is_on(view, &a.network) {
                    continue;
                }
                // As `docker network disconnect`: one that fails (the
                // container went meanwhile) is not reported as removed.
                if dry || self.runtime.disconnect(&a.network, c).await.is_ok() {
                    removed.push(format!("{} network disconnect {} {c}", R::NAME, a.network));
                }
            }
        }
        for n in t.networks.iter().filter(|n| n.docker) {
            if self.runtime.remove_network(&n.name, &t.name, dry).await.map_err(runtime_error::<R>)? {
                removed.push(format!("{} network rm {}", R::NAME, n.name));
            }
        }
        let mut result = down::down(&resolved, opts).await?;
        result.removed.splice(0..0, removed);
        Ok(result)
    }

    fn network_row(&self, n: &crate::Network) -> Change {
        let (what, detail) = self.runtime.network_row(n, &self.topology.name);
        Change::external(Sign::Create, R::NAME, what, detail)
    }

    /// The topology as the kernel side gets it: each container endpoint in
    /// its container's namespace (by PID), its attachments to runtime
    /// networks marked as made by the runtime (only verified by the
    /// kernel side); and each container as the runtime showed it (by the
    /// name the topology gives it).
    async fn resolve(&self, missing: Missing) -> Result<(Topology, BTreeMap<String, R::Container>)> {
        let t = &self.topology;
        let names: Vec<String> = t
            .endpoints
            .iter()
            .filter_map(|e| if let EndpointNs::Container(c) = &e.netns { Some(c.clone()) } else { None })
            .collect();
        let mut seen = Vec::with_capacity(names.len());
        for chunk in names.chunks(CONTAINERS_AT_ONCE) {
            seen.extend(futures::future::join_all(chunk.iter().map(|c| self.runtime.container(c))).await);
        }
        let mut views = BTreeMap::new();
        let mut out = t.clone();
        let mut dropped = Vec::new();
        // In endpoint order, as they were inspected.
        let mut seen = seen.into_iter();
        for e in &mut out.endpoints {
            let EndpointNs::Container(c) = &e.netns else { continue };
            let pid = match seen.next() {
                Some(Ok(view)) => {
                    let pid = self.runtime.pid(&view);
                    views.insert(c.clone(), view);
                    pid.ok_or_else(|| Error::ContainerNotRunning { runtime: R::NAME, container: c.clone() })
                }
                Some(Err(err)) => Err(runtime_error::<R>(err)),
                None => Err(Error::Core(vlanmac_core::Error::Internal("a container was not inspected".into()))),
            };
            match pid {
                Ok(pid) => e.netns = EndpointNs::Pid(pid),
                Err(_) if missing == Missing::Drop => dropped.push(e.name.clone()),
                Err(_) if missing == Missing::Keep => {}
                Err(err) => return Err(err),
            }
            for a in &mut e.attach {
                a.external = t.network(&a.network).is_some_and(|n| n.docker);
            }
        }
        out.endpoints.retain(|e| !dropped.contains(&e.name));
        Ok((out, views))
    }
}

/// The runtime's error as the engine's.
fn runtime_error<R: ContainerRuntime>(e: R::Error) -> Error {
    Error::Runtime { runtime: R::NAME, source: Box::new(e) }
}

fn connect_row<R: ContainerRuntime>(c: &Connection) -> Change {
    let ip = c.ipv4.map(|x| format!("--ip {x}"));
    let ip6 = c.ipv6.map(|x| format!("--ip6 {x}"));
    let detail: Vec<String> = ip.into_iter().chain(ip6).collect();
    Change::external(Sign::Create, R::NAME, format!("connect {} -> {}", c.container, c.network), detail.join(" "))
}

/// What [`Engine::resolve`] does with a container that does not exist or
/// does not run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// Fails (plan, apply: nothing can be made in it).
    Fail,
    /// Leaves its endpoint out (down: nothing to remove there).
    Drop,
    /// Keeps its endpoint unresolved, which verify reports as missing.
    Keep,
}

/// The containers' attachments to runtime networks (as `t` names them), in
/// attachment order, with the addresses IPAM gives them (`assigned`).
fn connections(t: &Topology, assigned: &[EndpointAddress]) -> Vec<Connection> {
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
            out.push(Connection {
                network: a.network.clone(),
                container: c.clone(),
                ipv4: addrs.iter().copied().find(IpAddr::is_ipv4),
                ipv6: addrs.iter().copied().find(IpAddr::is_ipv6),
                mac: a.mac,
            });
        }
    }
    out
}

/// A change applied by [`Engine::apply_confirmed`], waiting for
/// confirmation until its deadline.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The topology.
    pub topology: String,
    /// When it is rolled back unless confirmed (seconds since the epoch).
    pub deadline: u64,
    /// What the apply did.
    pub result: ApplyResult,
}

impl Pending {
    /// `vlanmac confirm NAME`: keeps the change (if the deadline has not
    /// passed; then it is rolled back here, and the outcome says so).
    pub async fn confirm(&self) -> Result<crate::checkpoint::Outcome> {
        Ok(crate::checkpoint::confirm(&self.topology, "the library (Pending::confirm)").await?)
    }

    /// `vlanmac rollback NAME`: undoes the change now.
    pub async fn rollback(&self) -> Result<crate::checkpoint::Outcome> {
        Ok(crate::checkpoint::rollback(&self.topology, "rolled back on request").await?)
    }
}
