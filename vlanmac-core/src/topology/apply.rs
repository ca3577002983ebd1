//! `apply`: executes a plan in order, journaling everything it creates, and
//! rolls all of it back (in reverse, namespaces last and whole) when a step
//! fails.

use std::{collections::HashSet, sync::Arc};

use serde::Serialize;

use super::{
    desired::{DesiredKind, DesiredLink},
    marks,
    model::Topology,
    observe::{observe, Handles},
    places::{places, Place, Role},
    plan::{plan, Action, Change, Plan},
};
use crate::{
    error::{Error, Result},
    link::{Ipvlan, LinkUpdate, Macvlan, NewLink, Veth, Vlan},
    netlink::Shared,
    netns::{self, sysctl},
    spec::{AddressSpec, IfName, RouteSpec},
};

/// Called before each step: (index from 1, total, the change).
pub type Progress = Arc<dyn Fn(usize, usize, &Change) + Send + Sync>;

/// How to apply.
#[derive(Clone, Default)]
pub struct ApplyOptions {
    /// Request counters and the test fault seam shared by every handle.
    pub shared: Shared,
    /// Progress callback.
    pub progress: Option<Progress>,
}

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
}

/// The sysctls plans read: the lab router's.
pub(crate) fn sysctl_keys(t: &Topology, places: &[Place]) -> Vec<(usize, String)> {
    let Some(lab) = &t.lab else { return Vec::new() };
    places
        .iter()
        .enumerate()
        .filter(|(_, p)| p.role == Role::Router)
        .flat_map(|(i, _)| super::desired::router_sysctls(&lab.trunk).into_iter().map(move |(k, _)| (i, k)))
        .collect()
}

/// Reads the kernel and computes the plan (changes nothing).
pub async fn plan_topology(t: &Topology, shared: &Shared) -> Result<Plan> {
    let places = places(t)?;
    let seen = observe(&places, shared, &sysctl_keys(t, &places)).await?;
    Ok(plan(t, &places, &seen)?.0)
}

/// The places of `t` and the state the kernel should hold (IPAM and MACs
/// included), read against the kernel as `plan` does.
pub async fn desired_state(t: &Topology, shared: &Shared) -> Result<(Vec<Place>, super::desired::Desired)> {
    let places = places(t)?;
    let seen = observe(&places, shared, &sysctl_keys(t, &places)).await?;
    let (_, d) = plan(t, &places, &seen)?;
    Ok((places, d))
}

/// Plans and applies `t`.
pub async fn apply(t: &Topology, opts: &ApplyOptions) -> Result<ApplyResult> {
    let places = places(t)?;
    let seen = observe(&places, &opts.shared, &sysctl_keys(t, &places)).await?;
    let (plan, _) = plan(t, &places, &seen)?;
    let writes_before = opts.shared.stats.writes();
    let mut run = Run { t, places: &places, handles: Handles::new(&places, opts.shared.clone()), journal: Vec::new() };
    let total = plan.changes.len();
    for (i, change) in plan.changes.iter().enumerate() {
        if let Some(p) = &opts.progress {
            p(i + 1, total, change);
        }
        if let Err(e) = run.step(&change.action).await {
            let rollback = run.rollback().await;
            return Err(Error::Apply { step: change.to_string(), source: Box::new(e), rollback });
        }
    }
    Ok(ApplyResult {
        topology: t.name.clone(),
        changed: !plan.changes.is_empty(),
        changes: plan.changes,
        writes: opts.shared.stats.writes() - writes_before,
    })
}

/// What to undo, in reverse order.
enum Undo {
    Netns { place: usize },
    Link { place: usize, dev: IfName },
    SetLink { place: usize, dev: IfName, update: LinkUpdate },
    DelAddress { place: usize, dev: IfName, addr: AddressSpec },
    AddAddress { place: usize, dev: IfName, addr: AddressSpec },
    DelRoute { place: usize, route: RouteSpec },
    ReplaceRoute { place: usize, route: RouteSpec },
    Sysctl { place: usize, key: String, old: String },
}

impl Undo {
    fn place(&self) -> usize {
        match self {
            Undo::Netns { place }
            | Undo::Link { place, .. }
            | Undo::SetLink { place, .. }
            | Undo::DelAddress { place, .. }
            | Undo::AddAddress { place, .. }
            | Undo::DelRoute { place, .. }
            | Undo::ReplaceRoute { place, .. }
            | Undo::Sysctl { place, .. } => *place,
        }
    }
}

struct Run<'a> {
    t: &'a Topology,
    places: &'a [Place],
    handles: Handles,
    journal: Vec<Undo>,
}

impl Run<'_> {
    fn mark(&self) -> String {
        marks::alias_of(&[self.t.name.clone()].into())
    }

    async fn step(&mut self, action: &Action) -> Result<()> {
        match action {
            Action::CreateNetns { place } => {
                let Some(name) = self.places[*place].named.clone() else {
                    return Err(Error::Conflict(format!("netns {} cannot be created", self.places[*place].label)));
                };
                netns::create(&name).await?;
                self.journal.push(Undo::Netns { place: *place });
                let mark = self.mark();
                let lo = IfName::from_trusted("lo".into());
                self.handles.nl(*place).await?.set_link(&lo, &LinkUpdate::new().alias(mark)?).await?;
            }
            Action::CreateLink { link } => {
                self.create_link(link).await?;
                self.journal.push(Undo::Link { place: link.place, dev: link.name.clone() });
            }
            Action::SetLink { place, dev, update, undo } => {
                self.handles.nl(*place).await?.set_link(dev, update).await?;
                if !undo.is_empty() {
                    self.journal.push(Undo::SetLink { place: *place, dev: dev.clone(), update: undo.clone() });
                }
            }
            Action::AddAddress { place, dev, addr } => {
                self.handles.nl(*place).await?.add_address(dev, addr).await?;
                self.journal.push(Undo::DelAddress { place: *place, dev: dev.clone(), addr: *addr });
            }
            Action::DelAddress { place, dev, addr } => {
                self.handles.nl(*place).await?.delete_address(dev, addr).await?;
                self.journal.push(Undo::AddAddress { place: *place, dev: dev.clone(), addr: *addr });
            }
            Action::AddRoute { place, route } => {
                self.handles.nl(*place).await?.add_route(route).await?;
                self.journal.push(Undo::DelRoute { place: *place, route: route.clone() });
            }
            Action::ReplaceRoute { place, route, old } => {
                self.handles.nl(*place).await?.replace_route(route).await?;
                self.journal.push(Undo::ReplaceRoute { place: *place, route: old.clone() });
            }
            Action::SetSysctl { place, key, value, old } => {
                sysctl::write(&self.places[*place].nsref, key, value).await?;
                if old != "?" {
                    self.journal.push(Undo::Sysctl { place: *place, key: key.clone(), old: old.clone() });
                }
            }
            Action::DeleteLink { place, dev } => {
                // Not undoable; plans put removals last.
                self.handles.nl(*place).await?.delete_link(dev).await?;
            }
        }
        Ok(())
    }

    async fn create_link(&mut self, l: &DesiredLink) -> Result<()> {
        let group = marks::group_of(&self.t.name);
        let mark = self.mark();
        let base = |kind: crate::link::LinkKindSpec| -> Result<NewLink> {
            let mut spec = NewLink::new(l.name.clone(), kind).group(group).alias(mark.clone())?;
            spec.mac = l.mac;
            spec.mtu = l.mtu;
            if l.no_ipv6 {
                spec.ipv6_addrgen = Some(false);
            }
            Ok(spec)
        };
        match &l.kind {
            DesiredKind::VethTrunk { peer_place } => {
                self.handles.ensure(*peer_place).await?;
                self.handles.ensure(l.place).await?;
                let peer = self.handles.get(*peer_place)?;
                let spec = base(Veth::new(l.name.clone()).peer_in(peer).into())?;
                self.handles.get(l.place)?.add_link(&spec).await
            }
            DesiredKind::VethPeer => Ok(()),
            DesiredKind::Vlan { parent, id, protocol } => {
                let spec = base(Vlan::new(parent.clone(), *id).protocol(*protocol).into())?;
                self.handles.nl(l.place).await?.add_link(&spec).await
            }
            DesiredKind::Macvlan { parent, parent_place, mode, source_macs } => {
                let kind = Macvlan::new(parent.clone(), *mode).source_macs(source_macs.clone());
                self.create_lower(l, *parent_place, base(kind.into())?).await
            }
            DesiredKind::Ipvlan { parent, parent_place, mode, flags } => {
                let kind = Ipvlan::new(parent.clone(), *mode).flags(*flags);
                self.create_lower(l, *parent_place, base(kind.into())?).await
            }
        }
    }

    /// A macvlan/ipvlan: in place beside its parent, or created inside the
    /// endpoint's namespace (temporary name, renamed there).
    async fn create_lower(&mut self, l: &DesiredLink, parent_place: usize, spec: NewLink) -> Result<()> {
        self.handles.ensure(parent_place).await?;
        self.handles.ensure(l.place).await?;
        let parent = self.handles.get(parent_place)?;
        if parent_place == l.place {
            parent.add_link(&spec).await
        } else {
            parent.add_link_into(&spec, self.handles.get(l.place)?).await
        }
    }

    /// Undoes the journal in reverse. Whatever lives in a namespace this
    /// apply created goes with the namespace, deleted last in one step.
    /// Returns the undo steps that failed.
    async fn rollback(&mut self) -> Vec<String> {
        let created: HashSet<usize> = self
            .journal
            .iter()
            .filter_map(|u| if let Undo::Netns { place } = u { Some(*place) } else { None })
            .collect();
        let mut failed = Vec::new();
        let journal = std::mem::take(&mut self.journal);
        for undo in journal.iter().rev() {
            if matches!(undo, Undo::Netns { .. }) || created.contains(&undo.place()) {
                continue;
            }
            if let Err(e) = self.undo(undo).await {
                failed.push(e.to_string());
            }
        }
        for undo in journal.iter().rev() {
            if let Undo::Netns { place } = undo {
                self.handles.drop_handle(*place);
                if let Some(name) = &self.places[*place].named {
                    if let Err(e) = netns::delete(name).await {
                        failed.push(e.to_string());
                    }
                }
            }
        }
        failed
    }

    async fn undo(&mut self, undo: &Undo) -> Result<()> {
        match undo {
            Undo::Netns { .. } => Ok(()),
            Undo::Link { place, dev } => {
                match self.handles.nl(*place).await?.delete_link(dev).await {
                    // Deleting a parent already took its children.
                    Err(Error::NotFound(_)) => Ok(()),
                    other => other,
                }
            }
            Undo::SetLink { place, dev, update } => match self.handles.nl(*place).await?.set_link(dev, update).await {
                Err(Error::NotFound(_)) => Ok(()),
                other => other,
            },
            Undo::DelAddress { place, dev, addr } => {
                match self.handles.nl(*place).await?.delete_address(dev, addr).await {
                    Err(Error::NotFound(_)) | Err(Error::InvalidArgument(_)) => Ok(()),
                    other => other,
                }
            }
            Undo::AddAddress { place, dev, addr } => self.handles.nl(*place).await?.add_address(dev, addr).await,
            Undo::DelRoute { place, route } => match self.handles.nl(*place).await?.delete_route(route).await {
                Err(Error::NotFound(_)) => Ok(()),
                other => other,
            },
            Undo::ReplaceRoute { place, route } => self.handles.nl(*place).await?.replace_route(route).await,
            Undo::Sysctl { place, key, old } => sysctl::write(&self.places[*place].nsref, key, old).await,
        }
    }
}
