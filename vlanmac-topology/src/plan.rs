//! `plan`: the diff between what a topology needs and what the kernel
//! holds, as `+` (create), `~` (change) and `-` (remove) changes.

use std::{
    collections::{BTreeMap, HashSet},
    fmt,
    net::IpAddr,
};

use serde::Serialize;

use super::{
    desired::{DesiredKind, DesiredLink},
    observe::Seen,
    places::Place,
};
use vlanmac_core::{
    link::LinkUpdate,
    spec::{AddressSpec, IfName, RouteSpec},
};

/// `+`, `~` or `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sign {
    /// Something is created.
    #[serde(rename = "+")]
    Create,
    /// Something existing is changed.
    #[serde(rename = "~")]
    Change,
    /// Something is removed.
    #[serde(rename = "-")]
    Remove,
}

impl fmt::Display for Sign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sign::Create => "+",
            Sign::Change => "~",
            Sign::Remove => "-",
        })
    }
}

/// One change of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// `+`, `~` or `-`.
    pub sign: Sign,
    /// The namespace it happens in.
    pub netns: String,
    /// What: `netns`, `link eth0.10`, `address eth0 10.0.10.3/24`, …
    pub object: String,
    /// Details: kind, parent, MAC, …
    pub detail: String,
    /// The value before (for `~`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The value after (for `~` and `+`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(skip)]
    pub(crate) action: Action,
}

impl Change {
    /// A change another engine carries out (Docker's networks and
    /// connections), shown in plans and results beside the kernel's.
    pub fn external(
        sign: Sign,
        netns: impl Into<String>,
        object: impl Into<String>,
        detail: impl Into<String>,
    ) -> Change {
        Change {
            sign,
            netns: netns.into(),
            object: object.into(),
            detail: detail.into(),
            before: None,
            after: None,
            action: Action::External,
        }
    }

    /// The same change with the values before and after it.
    pub fn with_values(mut self, before: Option<String>, after: Option<String>) -> Change {
        self.before = before;
        self.after = after;
        self
    }
}

/// What executing a change does (place indices into the topology's places).
#[derive(Debug, Clone)]
pub(crate) enum Action {
    CreateNetns {
        place: usize,
    },
    CreateLink {
        link: DesiredLink,
    },
    SetLink {
        place: usize,
        dev: IfName,
        update: LinkUpdate,
        undo: LinkUpdate,
    },
    AddAddress {
        place: usize,
        dev: IfName,
        addr: AddressSpec,
    },
    DelAddress {
        place: usize,
        dev: IfName,
        addr: AddressSpec,
    },
    AddRoute {
        place: usize,
        route: RouteSpec,
    },
    ReplaceRoute {
        place: usize,
        route: RouteSpec,
        old: RouteSpec,
    },
    /// `old` is the value read before, `"?"` when there was none to read
    /// (the interface or namespace is made by this apply).
    SetSysctl {
        place: usize,
        key: String,
        value: String,
        old: String,
    },
    /// `mac`: the link's MAC before, which a confirmed apply's rollback
    /// gives back to the link of that name if the previous file makes it
    /// again (the kernel would pick another when the file fixes none).
    DeleteLink {
        place: usize,
        dev: IfName,
        mac: Option<vlanmac_core::spec::MacAddr>,
    },
    /// Starts the lab's DHCP server in the router's namespace.
    StartLabServer {
        place: usize,
    },
    /// Acquires a DHCP lease for an interface (INIT-REBOOT with the
    /// address held before, if any).
    AcquireLease {
        lease: super::desired::DesiredLease,
        previous: Option<std::net::Ipv4Addr>,
    },
    /// Waits for an address formed from a router advertisement.
    AwaitSlaac {
        place: usize,
        dev: IfName,
    },
    /// Carried out by another engine (see [`Change::external`]).
    External,
}

impl Action {
    /// For a sysctl write whose prior value was read: where, the key and
    /// that value, to write back on undo. `None` for any other action and
    /// for a key that did not exist before (it goes with its interface or
    /// namespace; "?" written back would be refused).
    pub(crate) fn sysctl_undo(&self) -> Option<(usize, &str, &str)> {
        match self {
            Action::SetSysctl { place, key, old, .. } if old != "?" => Some((*place, key, old)),
            _ => None,
        }
    }

    /// The places whose sockets carrying out this action needs.
    pub(crate) fn places(&self) -> Vec<usize> {
        match self {
            Action::CreateLink { link } => {
                let other = match &link.kind {
                    DesiredKind::VethTrunk { peer_place } => Some(*peer_place),
                    DesiredKind::Macvlan { parent_place, .. } | DesiredKind::Ipvlan { parent_place, .. } => {
                        Some(*parent_place)
                    }
                    DesiredKind::VethPeer | DesiredKind::Vlan { .. } => None,
                };
                std::iter::once(link.place).chain(other).collect()
            }
            Action::CreateNetns { place }
            | Action::SetLink { place, .. }
            | Action::AddAddress { place, .. }
            | Action::DelAddress { place, .. }
            | Action::AddRoute { place, .. }
            | Action::ReplaceRoute { place, .. }
            | Action::SetSysctl { place, .. }
            | Action::DeleteLink { place, .. } => vec![*place],
            Action::AcquireLease { lease, .. } => vec![lease.place],
            Action::AwaitSlaac { place, .. } => vec![*place],
            Action::StartLabServer { .. } | Action::External => Vec::new(),
        }
    }
}

/// The changes `apply` would make, in order.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The topology's name.
    pub topology: String,
    /// The changes; empty when the kernel already matches.
    pub changes: Vec<Change>,
    /// DHCP interfaces that hold their lease (no change needed), with
    /// what is left of it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leases: Vec<super::leases::LeaseStatus>,
}

impl Plan {
    /// Whether applying would change anything.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Counts of `+`, `~` and `-` changes.
    pub fn counts(&self) -> (usize, usize, usize) {
        let c = |s| self.changes.iter().filter(|x| x.sign == s).count();
        (c(Sign::Create), c(Sign::Change), c(Sign::Remove))
    }
}

/// Addresses each (endpoint, interface) holds now.
pub(crate) type CurrentAddresses = BTreeMap<(String, String), Vec<IpAddr>>;

/// Every address present in the kernel, and per (endpoint, interface) the
/// addresses it holds: IPAM's inputs.
pub(crate) fn ipam_inputs(places: &[Place], seen: &[Seen]) -> (HashSet<IpAddr>, CurrentAddresses) {
    let mut present = HashSet::new();
    let mut current = BTreeMap::new();
    for (p, s) in places.iter().zip(seen) {
        for l in &s.links {
            let ips: Vec<IpAddr> = l.addresses.iter().filter(|a| !a.link_scope).map(|a| a.net.addr()).collect();
            present.extend(ips.iter().copied());
            if let Some(e) = p.endpoint() {
                // Only configured addresses are IPAM's to keep: one from a
                // lease or a router advertisement is the network's.
                let configured = l.addresses.iter().filter(|a| !a.link_scope && a.permanent).map(|a| a.net.addr());
                current.insert((e.to_string(), l.name.clone()), configured.collect());
            }
        }
    }
    (present, current)
}
