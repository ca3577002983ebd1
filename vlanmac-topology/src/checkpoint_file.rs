//! What a confirmed apply's checkpoint holds and where it is kept
//! (`/run/vlanmac/NAME/checkpoint`, JSON, written atomically): the undo
//! step of every change the plan makes, computed from the plan before the
//! apply changes anything, and the topology file applied before. The
//! rules around it (confirm, rollback, the watchdog's wait) are
//! `checkpoint.rs`'s.

use std::{
    net::IpAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use vlanmac_core::{
    netns::NetnsRef,
    spec::{IfName, NetnsName, RouteSpec},
    Error, Result,
};

use crate::{
    dhcp::unix_now,
    lab_server::state_dir,
    model::Topology,
    places::{Place, Role},
    plan::{Action, Plan},
};

/// Where a step happens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ns {
    /// The namespace `vlanmac` runs in.
    Current,
    /// A named namespace.
    Named(String),
    /// A process's namespace.
    Pid(u32),
}

impl Ns {
    pub(crate) fn of(place: &Place) -> Option<Ns> {
        match &place.nsref {
            NetnsRef::Current => Some(Ns::Current),
            NetnsRef::Named(n) => Some(Ns::Named(n.to_string())),
            NetnsRef::Pid(p) => Some(Ns::Pid(*p)),
            NetnsRef::Path(_) => None,
        }
    }

    pub(crate) fn place(&self) -> Result<Place> {
        let (label, nsref, named) = match self {
            Ns::Current => ("(current)".to_string(), NetnsRef::Current, None),
            Ns::Named(n) => {
                let name = NetnsName::new(n.as_str())?;
                (n.clone(), NetnsRef::Named(name.clone()), Some(name))
            }
            Ns::Pid(p) => (format!("pid:{p}"), NetnsRef::Pid(*p), None),
        };
        Ok(Place { label: label.clone(), nsref, named, role: Role::Endpoint(label) })
    }
}

/// A route as the checkpoint stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteRecord {
    /// Destination (`0.0.0.0/0` for a default route).
    pub dst: String,
    /// Next hop.
    pub gateway: Option<IpAddr>,
    /// Output device.
    pub dev: Option<String>,
    /// Metric.
    pub metric: Option<u32>,
    /// Table.
    pub table: Option<u32>,
    /// `onlink`.
    pub onlink: bool,
}

impl RouteRecord {
    fn of(r: &RouteSpec) -> Self {
        RouteRecord {
            dst: r.dst.to_string(),
            gateway: r.gateway,
            dev: r.dev.as_ref().map(|d| d.to_string()),
            metric: r.metric,
            table: r.table,
            onlink: r.onlink,
        }
    }

    pub(crate) fn spec(&self) -> Result<RouteSpec> {
        let dst = self.dst.parse().map_err(|_| corrupt(format!("route destination {}", self.dst)))?;
        Ok(RouteSpec {
            dst,
            gateway: self.gateway,
            dev: self.dev.as_deref().map(IfName::new).transpose()?,
            metric: self.metric,
            table: self.table,
            onlink: self.onlink,
        })
    }
}

/// One undo step, as the checkpoint stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "undo", rename_all = "snake_case")]
pub enum Step {
    /// A namespace the apply creates: deleted, with all it holds.
    DeleteNetns {
        /// Its name.
        netns: String,
    },
    /// A link the apply creates: deleted.
    DeleteLink {
        /// Where.
        ns: Ns,
        /// Its name.
        dev: String,
    },
    /// A link the apply changes: its prior attributes set again.
    SetLink {
        /// Where.
        ns: Ns,
        /// Its name.
        dev: String,
        /// Prior state.
        up: Option<bool>,
        /// Prior MTU.
        mtu: Option<u32>,
        /// Prior MAC.
        mac: Option<String>,
        /// Prior alias.
        alias: Option<String>,
        /// Prior IPv6 address generation.
        ipv6_addrgen: Option<bool>,
    },
    /// An address the apply adds: removed.
    DeleteAddress {
        /// Where.
        ns: Ns,
        /// The link.
        dev: String,
        /// ADDRESS/PREFIX.
        address: String,
    },
    /// An address the apply removes: added again.
    AddAddress {
        /// Where.
        ns: Ns,
        /// The link.
        dev: String,
        /// ADDRESS/PREFIX.
        address: String,
    },
    /// A route the apply adds: removed.
    DeleteRoute {
        /// Where.
        ns: Ns,
        /// The route.
        route: RouteRecord,
    },
    /// A route the apply replaces: the prior one put back.
    ReplaceRoute {
        /// Where.
        ns: Ns,
        /// The prior route.
        route: RouteRecord,
    },
    /// A sysctl the apply sets: its prior value written back.
    Sysctl {
        /// Where.
        ns: Ns,
        /// Its key (`net/ipv4/ip_forward`).
        key: String,
        /// Prior value.
        old: String,
    },
    /// A link the apply deletes: if the previous file makes it again, it
    /// gets its MAC back (after the previous file is applied; the kernel
    /// picks a new one for a link whose file fixes none).
    RestoreMac {
        /// Where.
        ns: Ns,
        /// Its name.
        dev: String,
        /// Its MAC before.
        mac: String,
    },
    /// The lab DHCP server the apply starts: stopped.
    StopLabServer,
    /// A lease the apply takes: released, taken off the interface.
    ReleaseLease {
        /// Where.
        ns: Ns,
        /// The endpoint.
        endpoint: String,
        /// Its interface.
        dev: String,
    },
}

/// A stored topology file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// Its name, whose extension says YAML or JSON.
    pub name: String,
    /// Its text.
    pub text: String,
}

impl StoredFile {
    /// The topology it holds.
    pub fn topology(&self) -> Result<Topology> {
        let stem = Path::new(&self.name).file_stem().and_then(|s| s.to_str()).unwrap_or("topology");
        if self.name.ends_with(".json") {
            crate::from_json(&self.text, stem)
        } else {
            crate::from_yaml(&self.text, stem)
        }
    }
}

/// Where a confirmed apply stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Applied (or being applied), waiting for `confirm` until the deadline.
    Pending,
    /// Confirmed: kept.
    Confirmed {
        /// Who confirmed (`vlanmac confirm`, Enter on the terminal, ...).
        by: String,
    },
    /// Rolled back.
    RolledBack {
        /// Why.
        reason: String,
        /// Undo steps that failed (empty: back as recorded).
        failed: Vec<String>,
    },
}

/// The checkpoint of a confirmed apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The topology's name.
    pub topology: String,
    /// When it was written (seconds since the epoch).
    pub created: u64,
    /// When it is rolled back unless confirmed (seconds since the epoch).
    pub deadline: u64,
    /// Where it stands.
    pub state: State,
    /// The watchdog process that rolls it back at the deadline.
    pub watchdog: Option<u32>,
    /// The topology file applied before, applied again by a rollback.
    pub previous: Option<StoredFile>,
    /// The undo steps, in the order the apply's changes come.
    pub steps: Vec<Step>,
}

/// What a confirmed apply needs besides the topology.
#[derive(Debug, Clone, Default)]
pub struct Confirm {
    /// How long after the apply a `confirm` may come.
    pub timeout: Duration,
    /// The topology file applied before (applied again by a rollback);
    /// `None`: [`remembered`], the file the last `vlanmac apply` kept.
    pub previous: Option<StoredFile>,
}

/// Writes the checkpoint of `plan` before the apply changes anything; its
/// deadline is set again once the apply is done ([`start_clock`]).
pub(crate) fn write_ahead(t: &Topology, plan: &Plan, places: &[Place], confirm: &Confirm) -> Result<()> {
    let now = unix_now();
    save(&Checkpoint {
        topology: t.name.clone(),
        created: now,
        deadline: now + confirm.timeout.as_secs().max(1),
        state: State::Pending,
        watchdog: None,
        previous: confirm.previous.clone().or_else(|| remembered(&t.name)),
        steps: steps(plan, places),
    })
}

/// `/run/vlanmac/NAME/checkpoint`.
pub fn path(topology: &str) -> PathBuf {
    state_dir(topology).join("checkpoint")
}

pub(crate) fn lock_path(topology: &str) -> PathBuf {
    Path::new(vlanmac_core::lockfile::LOCK_DIR)
        .join(format!("{}.checkpoint.lock", vlanmac_core::lockfile::escape(topology)))
}

pub(crate) fn corrupt(what: String) -> Error {
    Error::io("read the checkpoint", std::io::Error::new(std::io::ErrorKind::InvalidData, what))
}

/// The checkpoint of `topology`, if one was written (`None` also for a
/// file that cannot be read as one).
pub fn load(topology: &str) -> Option<Checkpoint> {
    let text = std::fs::read(path(topology)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Writes `c` atomically (a file beside it, renamed over it).
pub fn save(c: &Checkpoint) -> Result<()> {
    let p = path(&c.topology);
    crate::state_file::write_json(&p, c, true)
        .map_err(|e| Error::io(format!("write the checkpoint {}", p.display()), e))
}

/// Removes `topology`'s checkpoint, the file it remembers as applied and
/// the watchdog's log (`down`: nothing is left to roll back).
pub fn forget(topology: &str) {
    for f in ["checkpoint", "applied.json", "watchdog.log"] {
        let _ = std::fs::remove_file(state_dir(topology).join(f));
    }
}

/// The topology file last applied by `vlanmac apply` (kept for the
/// checkpoint of the next confirmed apply), if any.
pub fn remembered(topology: &str) -> Option<StoredFile> {
    let text = std::fs::read(state_dir(topology).join("applied.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Keeps `file` as the one last applied to `topology`.
pub fn remember(topology: &str, file: &StoredFile) -> Result<()> {
    let p = state_dir(topology).join("applied.json");
    crate::state_file::write_json(&p, file, false).map_err(|e| Error::io(format!("write {}", p.display()), e))
}

/// The undo steps of `plan` over `places`, in the plan's order.
pub(crate) fn steps(plan: &Plan, places: &[Place]) -> Vec<Step> {
    let ns = |place: usize| places.get(place).and_then(Ns::of);
    let mut out = Vec::new();
    for c in &plan.changes {
        let step = match &c.action {
            Action::CreateNetns { place } => {
                places.get(*place).and_then(|p| p.named.as_ref()).map(|n| Step::DeleteNetns { netns: n.to_string() })
            }
            Action::CreateLink { link } => ns(link.place).map(|ns| Step::DeleteLink { ns, dev: link.name.to_string() }),
            Action::SetLink { place, dev, undo, .. } => ns(*place).map(|ns| Step::SetLink {
                ns,
                dev: dev.to_string(),
                up: undo.up,
                mtu: undo.mtu.map(|m| m.get()),
                mac: undo.mac.map(|m| m.to_string()),
                alias: undo.alias.clone(),
                ipv6_addrgen: undo.ipv6_addrgen,
            }),
            Action::AddAddress { place, dev, addr } => {
                ns(*place).map(|ns| Step::DeleteAddress { ns, dev: dev.to_string(), address: addr.net.to_string() })
            }
            Action::DelAddress { place, dev, addr } => {
                ns(*place).map(|ns| Step::AddAddress { ns, dev: dev.to_string(), address: addr.net.to_string() })
            }
            Action::AddRoute { place, route } => {
                ns(*place).map(|ns| Step::DeleteRoute { ns, route: RouteRecord::of(route) })
            }
            Action::ReplaceRoute { place, old, .. } => {
                ns(*place).map(|ns| Step::ReplaceRoute { ns, route: RouteRecord::of(old) })
            }
            Action::SetSysctl { .. } => c
                .action
                .sysctl_undo()
                .and_then(|(place, key, old)| Some(Step::Sysctl { ns: ns(place)?, key: key.into(), old: old.into() })),
            Action::StartLabServer { .. } => Some(Step::StopLabServer),
            Action::AcquireLease { lease, .. } => ns(lease.place).map(|ns| Step::ReleaseLease {
                ns,
                endpoint: lease.endpoint.clone(),
                dev: lease.dev.to_string(),
            }),
            // A link the change deletes comes back with the previous file.
            Action::DeleteLink { place, dev, mac } => mac
                .and_then(|mac| Some(Step::RestoreMac { ns: ns(*place)?, dev: dev.to_string(), mac: mac.to_string() })),
            Action::AwaitSlaac { .. } | Action::External => None,
        };
        out.extend(step);
    }
    out
}
