//! `apply`: executes a plan in order, journaling everything it creates, and
//! rolls all of it back (in reverse, namespaces last and whole) when a step
//! fails.

use std::ops::Range;

use futures::StreamExt;
use serde::Serialize;

use super::{
    desired::{DesiredKind, DesiredLink},
    lab_server::LabServer,
    leases, marks,
    model::Topology,
    observe::Handles,
    options::Options,
    places::Place,
    plan::{Action, Change},
    reading::{endpoint_addresses, read_and_plan, EndpointAddress, Reading},
    rollback::{Journal, Undo},
};
use vlanmac_core::{
    link::{Ipvlan, LinkUpdate, Macvlan, NewLink, Veth, Vlan},
    netlink::Netlink,
    netns::{self, sysctl},
    Batch, Error, Result,
};

/// What an apply did.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyResult {
    /// The topology's name.
    pub topology: String,
    /// Whether anything changed.
    pub changed: bool,
    /// The changes made, in order.
    pub changes: Vec<Change>,
    /// Netlink write requests sent (0 for a no-op apply).
    pub writes: u64,
    /// The address each endpoint interface holds after the apply, IPAM's
    /// choices included (attachments made by an adapter, such as Docker's,
    /// too: the addresses it asks for), in endpoint order.
    pub addresses: Vec<EndpointAddress>,
    /// The DHCP leases the endpoints hold after the apply (their addresses
    /// are in `addresses` too). Without an agent to renew them they lapse
    /// at their end, and the kernel drops the addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leases: Vec<leases::LeaseStatus>,
}

/// Plans and applies `t`.
///
/// Namespaces are made first (all at once), then every netlink change of
/// the plan goes in one [`Batch`]: packed many to a datagram, in waves that
/// wait only for what they depend on. On a failure everything this apply
/// made is undone and the error names the failed step.
pub async fn apply(t: &Topology, opts: &Options) -> Result<ApplyResult> {
    // A namespace deleted just before (by `down`, a rollback, another
    // tool) is torn down by the kernel in the background: until then its
    // macvlans keep their MAC addresses on the parent, and bringing up a new
    // one with the same MAC fails with EADDRINUSE. Such an apply was rolled
    // back whole; it is tried again, for a bounded time.
    let _lock = vlanmac_core::lockfile::lock(&t.name).await?;
    let mut delay = std::time::Duration::from_millis(20);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match apply_once(t, opts).await {
            Err(Error::Apply { source, rollback, .. })
                if rollback.is_empty()
                    && matches!(&*source, Error::Kernel(k) if k.errno == libc::EADDRINUSE)
                    && std::time::Instant::now() < deadline
                    && !opts.interrupt.is_triggered() =>
            {
                // A sleep that needs no particular async runtime.
                netns::spawn_blocking(move || {
                    std::thread::sleep(delay);
                    Ok(())
                })
                .await?;
                delay = (delay * 2).min(std::time::Duration::from_millis(500));
            }
            other => return other,
        }
    }
}

async fn apply_once(t: &Topology, opts: &Options) -> Result<ApplyResult> {
    let Reading { places, handles, plan, desired } = read_and_plan(t, &opts.shared).await?;
    if let Some(confirm) = &opts.confirm {
        crate::checkpoint_file::write_ahead(t, &plan, &places, confirm)?;
    }
    let writes_before = opts.shared.stats.writes();
    let mut run = Run { t, places: &places, handles, journal: Journal::default(), interrupt: &opts.interrupt };
    let changes = &plan.changes;
    let total = changes.len();
    let mut i = 0;
    while i < total {
        let kind = Segment::of(&changes[i].action);
        let end = i + changes[i..].iter().take_while(|c| Segment::of(&c.action) == kind).count();
        if let Some(p) = &opts.progress {
            for (k, change) in changes.iter().enumerate().take(end).skip(i) {
                p(k + 1, total, change);
            }
        }
        let range = std::mem::replace(&mut i, end)..end;
        let first = range.start;
        let done = match opts.interrupt.check(|| changes[first].to_string()) {
            Err(e) => Err((first, e)),
            Ok(()) => match kind {
                Segment::Namespaces => run.namespaces(changes, range).await,
                Segment::Netlink => run.netlink(changes, range).await,
                Segment::Sysctl => run.sysctls(changes, range).await,
                Segment::Served => run.served(changes, range, opts).await,
            },
        };
        if let Err((k, e)) = done {
            let rollback = run.journal.rollback(&mut run.handles, run.places).await;
            return Err(Error::Apply { step: changes[k].to_string(), source: Box::new(e), rollback });
        }
    }
    let held = leases::held(t, &desired);
    let mut addresses = endpoint_addresses(&places, &desired);
    addresses.extend(held.iter().map(|(x, l)| EndpointAddress {
        endpoint: x.endpoint.clone(),
        interface: x.dev.to_string(),
        address: l.address.into(),
        prefix_len: l.prefix_len,
    }));
    let now = crate::dhcp::unix_now();
    Ok(ApplyResult {
        topology: t.name.clone(),
        changed: !plan.changes.is_empty(),
        changes: plan.changes,
        writes: opts.shared.stats.writes() - writes_before,
        addresses,
        leases: held.iter().map(|(x, l)| leases::status(x, l, &places, now)).collect(),
    })
}

/// How a run of plan changes is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    /// `ip netns add`, all at once.
    Namespaces,
    /// Sysctl writes (files under /proc/sys, inside the namespace).
    Sysctl,
    /// The lab's DHCP server and the DHCP leases (all asked for at once).
    Served,
    /// Everything else: one packed [`Batch`].
    Netlink,
}

impl Segment {
    fn of(action: &Action) -> Segment {
        match action {
            Action::CreateNetns { .. } => Segment::Namespaces,
            Action::SetSysctl { .. } => Segment::Sysctl,
            Action::StartLabServer { .. } | Action::AcquireLease { .. } | Action::AwaitSlaac { .. } => Segment::Served,
            _ => Segment::Netlink,
        }
    }
}

/// A failed step: its index in the plan, and why.
type StepError = (usize, Error);

struct Run<'a> {
    t: &'a Topology,
    places: &'a [Place],
    handles: Handles,
    journal: Journal,
    interrupt: &'a vlanmac_core::Interrupt,
}

impl Run<'_> {
    fn mark(&self) -> String {
        marks::alias_of(&[self.t.name.clone()].into())
    }

    /// Creates namespaces concurrently, each with the topology's mark on its
    /// `lo` before it appears under `/run/netns`; each made is journaled.
    async fn namespaces(&mut self, changes: &[Change], range: Range<usize>) -> std::result::Result<(), StepError> {
        let places = self.places;
        let shared = &self.handles.shared;
        let (mark, interrupt) = (self.mark(), self.interrupt);
        let made: Vec<_> = futures::stream::iter(range.filter_map(|k| match &changes[k].action {
            Action::CreateNetns { place } => {
                let mark = mark.clone();
                Some(async move {
                    let res = match (interrupt.check(|| changes[k].to_string()), places[*place].named.clone()) {
                        (Err(e), _) => Err(e),
                        (Ok(()), Some(name)) => Netlink::create_netns_marked(&name, shared, Some(mark)).await,
                        (Ok(()), None) => {
                            Err(Error::Internal(format!("netns {} has no name to create", places[*place].label)))
                        }
                    };
                    (k, *place, res)
                })
            }
            _ => None,
        }))
        .buffer_unordered(super::observe::OPEN_AT_ONCE)
        .collect()
        .await;
        let mut failed = None;
        for (k, place, res) in made {
            match res {
                Ok(nl) => {
                    self.handles.insert(place, nl);
                    self.journal.push(Undo::Netns { place });
                }
                Err(e) => failed = failed.or(Some((k, e))),
            }
        }
        failed.map_or(Ok(()), Err)
    }

    async fn sysctls(&mut self, changes: &[Change], range: Range<usize>) -> std::result::Result<(), StepError> {
        for k in range {
            if let Action::SetSysctl { place, key, value, .. } = &changes[k].action {
                self.interrupt.check(|| changes[k].to_string()).map_err(|e| (k, e))?;
                sysctl::write(&self.places[*place].nsref, key, value).await.map_err(|e| (k, e))?;
                if let Some((place, key, old)) = changes[k].action.sysctl_undo() {
                    self.journal.push(Undo::Sysctl { place, key: key.to_string(), old: old.to_string() });
                }
            }
        }
        Ok(())
    }

    /// The lab's DHCP server (started first: the leases come from it),
    /// then every lease of the range at once; each journaled.
    async fn served(
        &mut self,
        changes: &[Change],
        range: Range<usize>,
        opts: &Options,
    ) -> std::result::Result<(), StepError> {
        let mut wanted = Vec::new();
        let mut slaac = Vec::new();
        for k in range {
            match &changes[k].action {
                Action::StartLabServer { place } => {
                    self.interrupt.check(|| changes[k].to_string()).map_err(|e| (k, e))?;
                    let server = LabServer::of(self.t)
                        .ok_or_else(|| (k, Error::Internal("no lab DHCP server to start".into())))?;
                    if server.ensure(&self.places[*place].nsref).await.map_err(|e| (k, e))? {
                        self.journal.push(Undo::LabServer { server });
                    }
                }
                Action::AcquireLease { lease, previous } => wanted.push((k, (lease.clone(), *previous))),
                Action::AwaitSlaac { place, dev } => slaac.push((k, *place, dev.clone())),
                _ => {}
            }
        }
        let timeout = opts.dhcp_timeout.unwrap_or(leases::DEFAULT_TIMEOUT);
        let places: Vec<usize> =
            wanted.iter().map(|(_, (x, _))| x.place).chain(slaac.iter().map(|(_, p, _)| *p)).collect();
        if let Some(first) = wanted.first().map(|w| w.0).or(slaac.first().map(|s| s.0)) {
            self.interrupt.check(|| changes[first].to_string()).map_err(|e| (first, e))?;
            self.handles.ensure_all(&places).await.map_err(|e| (first, e))?;
        }
        let mut failed = None;
        if let Some(&(first, _)) = wanted.first() {
            let h = &self.handles;
            let asks: Vec<_> = wanted.iter().map(|(_, w)| w.clone()).collect();
            let got = leases::acquire(&self.t.name, &asks, self.places, |p| h.get(p).ok(), timeout)
                .await
                .map_err(|e| (first, e))?;
            for ((k, (x, _)), res) in wanted.into_iter().zip(got) {
                match res {
                    Ok(lease) => self.journal.push(Undo::Lease { topology: self.t.name.clone(), wanted: x, lease }),
                    Err(e) => failed = failed.or(Some((k, e))),
                }
            }
        }
        if failed.is_none() {
            let h = &self.handles;
            let waits = slaac.iter().map(|(k, place, dev)| async move {
                let nl = h.get(*place).map_err(|e| (*k, e))?;
                leases::await_slaac(nl, dev, timeout).await.map_err(|e| (*k, e))
            });
            failed = futures::future::join_all(waits).await.into_iter().find_map(|r| r.err());
        }
        failed.map_or(Ok(()), Err)
    }

    /// The netlink changes in `range` as one batch; what succeeded is
    /// journaled in plan order.
    async fn netlink(&mut self, changes: &[Change], range: Range<usize>) -> std::result::Result<(), StepError> {
        let first = range.start;
        let needed: Vec<usize> = changes[range.clone()].iter().flat_map(|c| c.action.places()).collect();
        self.handles.ensure_all(&needed).await.map_err(|e| (first, e))?;
        let h = &self.handles;
        // For each batch change: the plan step it serves, and what undoes it.
        let mut owners: Vec<(usize, Option<Undo>)> = Vec::new();
        let mut batch = Batch::new();
        batch.interrupt(self.interrupt);
        let get = |p: usize, k: usize| h.get(p).map_err(|e| (k, e));
        for k in range {
            let undo = match &changes[k].action {
                Action::CreateLink { link } => {
                    let undo = Undo::Link { place: link.place, dev: link.name.clone() };
                    let requests = self.create_link(h, &mut batch, link).map_err(|e| (k, e))?;
                    if requests == 0 {
                        // A veth's peer: made by its trunk's request.
                        self.journal.push(undo);
                        continue;
                    }
                    owners.push((k, Some(undo)));
                    // The rest of its requests undo nothing of their own.
                    owners.extend((1..requests).map(|_| (k, None)));
                    continue;
                }
                Action::SetLink { place, dev, update, undo } => {
                    batch.set_link(get(*place, k)?, dev, update.clone());
                    if undo.is_empty() {
                        owners.push((k, None));
                        continue;
                    }
                    Undo::SetLink { place: *place, dev: dev.clone(), update: undo.clone() }
                }
                Action::AddAddress { place, dev, addr } => {
                    batch.add_address(get(*place, k)?, dev, *addr);
                    Undo::DelAddress { place: *place, dev: dev.clone(), addr: *addr }
                }
                Action::DelAddress { place, dev, addr } => {
                    batch.delete_address(get(*place, k)?, dev, *addr);
                    Undo::AddAddress { place: *place, dev: dev.clone(), addr: *addr }
                }
                Action::AddRoute { place, route } => {
                    batch.add_route(get(*place, k)?, route.clone());
                    Undo::DelRoute { place: *place, route: route.clone() }
                }
                Action::ReplaceRoute { place, route, old } => {
                    batch.replace_route(get(*place, k)?, route.clone());
                    Undo::ReplaceRoute { place: *place, route: old.clone() }
                }
                Action::DeleteLink { place, dev, .. } => {
                    // Not undoable; plans put removals last.
                    batch.delete_link(get(*place, k)?, dev);
                    owners.push((k, None));
                    continue;
                }
                Action::CreateNetns { .. }
                | Action::SetSysctl { .. }
                | Action::StartLabServer { .. }
                | Action::AcquireLease { .. }
                | Action::AwaitSlaac { .. }
                | Action::External => continue,
            };
            owners.push((k, Some(undo)));
        }
        let report = batch.run().await;
        let mut failed = None;
        let mut unattempted = None;
        for ((k, undo), res) in owners.into_iter().zip(report.results) {
            match res {
                Some(Ok(())) => {
                    if let Some(u) = undo {
                        self.journal.push(u);
                    }
                }
                // Gone already: a veth whose peer was deleted in the same
                // wave (the lab trunk renamed) goes with it. Removals come
                // last and depend on nothing, so they share one wave and
                // none is left unattempted by it.
                Some(Err(Error::NotFound(_))) if matches!(changes[k].action, Action::DeleteLink { .. }) => {}
                Some(Err(e)) => failed = failed.or(Some((k, e))),
                None => unattempted = unattempted.or(Some(k)),
            }
        }
        match (failed, unattempted) {
            (Some(f), _) => Err(f),
            (None, Some(k)) if report.interrupted => Err((k, Error::Interrupted { before: changes[k].to_string() })),
            _ => Ok(()),
        }
    }

    /// Adds the requests that create link `l` to `batch` (through the
    /// handles `h`); returns how many (0 for a veth's peer, which its
    /// trunk's request makes).
    fn create_link<'h>(&self, h: &'h Handles, batch: &mut Batch<'h>, l: &DesiredLink) -> Result<usize> {
        let spec = self.link_spec(l)?;
        Ok(match &l.kind {
            DesiredKind::VethPeer => 0,
            DesiredKind::VethTrunk { peer_place } => {
                let peer = h.get(*peer_place)?;
                let spec = NewLink { kind: Veth::new(l.name.clone()).peer_in(peer).into(), ..spec };
                batch.add_link(h.get(l.place)?, spec);
                // The peer, made by the same request in the group, gets the
                // alias too (once it exists: the next wave).
                batch.set_link(peer, &l.name, LinkUpdate::new().alias(self.mark())?);
                2
            }
            DesiredKind::Macvlan { parent_place, .. } | DesiredKind::Ipvlan { parent_place, .. } => {
                batch.add_link_into(h.get(*parent_place)?, spec, h.get(l.place)?);
                1
            }
            DesiredKind::Vlan { .. } => {
                batch.add_link(h.get(l.place)?, spec);
                1
            }
        })
    }

    /// The link `l` as vlanmac creates it: marked with the topology's group
    /// and alias, IPv6 address generation off when its network has no IPv6.
    fn link_spec(&self, l: &DesiredLink) -> Result<NewLink> {
        let kind: vlanmac_core::link::LinkKindSpec = match &l.kind {
            DesiredKind::VethTrunk { .. } | DesiredKind::VethPeer => Veth::new(l.name.clone()).into(),
            DesiredKind::Vlan { parent, id, protocol } => Vlan::new(parent.clone(), *id).protocol(*protocol).into(),
            DesiredKind::Macvlan { parent, mode, source_macs, .. } => {
                Macvlan::new(parent.clone(), *mode).source_macs(source_macs.clone()).into()
            }
            DesiredKind::Ipvlan { parent, mode, flags, .. } => Ipvlan::new(parent.clone(), *mode).flags(*flags).into(),
        };
        let mut spec = NewLink::new(l.name.clone(), kind).group(marks::group_of(&self.t.name)).alias(self.mark())?;
        spec.mac = l.mac;
        spec.mtu = l.mtu;
        if l.no_ipv6 {
            spec.ipv6_addrgen = Some(false);
        }
        Ok(spec)
    }
}
