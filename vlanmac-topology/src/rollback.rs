//! Rollback of a failed or interrupted `apply`: the journal of what it
//! created or changed, undone in reverse; namespaces it made go last and
//! whole.

use std::collections::HashSet;

use super::{
    desired::DesiredLease,
    dhcp::{self, Lease},
    lab_server::LabServer,
    leases,
    observe::Handles,
    places::Place,
};
use vlanmac_core::{
    link::LinkUpdate,
    netns::{self, sysctl},
    spec::{AddressSpec, IfName, RouteSpec},
    Error, Result,
};

/// What to undo, in reverse order.
pub(super) enum Undo {
    Netns {
        place: usize,
    },
    Link {
        place: usize,
        dev: IfName,
    },
    SetLink {
        place: usize,
        dev: IfName,
        update: LinkUpdate,
    },
    DelAddress {
        place: usize,
        dev: IfName,
        addr: AddressSpec,
    },
    AddAddress {
        place: usize,
        dev: IfName,
        addr: AddressSpec,
    },
    DelRoute {
        place: usize,
        route: RouteSpec,
    },
    ReplaceRoute {
        place: usize,
        route: RouteSpec,
    },
    Sysctl {
        place: usize,
        key: String,
        old: String,
    },
    /// A lab DHCP server this apply started: stopped, its files removed.
    LabServer {
        server: LabServer,
    },
    /// A lease this apply acquired: given back, taken off the interface,
    /// its file removed.
    Lease {
        topology: String,
        wanted: DesiredLease,
        lease: Lease,
    },
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
            Undo::Lease { wanted, .. } => wanted.place,
            Undo::LabServer { .. } => usize::MAX,
        }
    }
}

/// What an apply made or changed, in order: what its rollback undoes.
#[derive(Default)]
pub(super) struct Journal(Vec<Undo>);

impl Journal {
    /// Records one undo step.
    pub(super) fn push(&mut self, undo: Undo) {
        self.0.push(undo);
    }

    /// Undoes the journal in reverse, through `handles` to `places`.
    /// Whatever lives in a namespace this apply created goes with the
    /// namespace, deleted last in one step. Returns the undo steps that
    /// failed.
    pub(super) async fn rollback(&mut self, handles: &mut Handles, places: &[Place]) -> Vec<String> {
        let created: HashSet<usize> =
            self.0.iter().filter_map(|u| if let Undo::Netns { place } = u { Some(*place) } else { None }).collect();
        let mut failed = Vec::new();
        let journal = std::mem::take(&mut self.0);
        for undo in journal.iter().rev() {
            // A lease is given back even from a namespace that goes whole:
            // the server would hold the address for nothing, and its file
            // would be asked for again.
            let with_namespace = created.contains(&undo.place()) && !matches!(undo, Undo::Lease { .. });
            if matches!(undo, Undo::Netns { .. }) || with_namespace {
                continue;
            }
            if let Err(e) = undo_one(undo, handles, places).await {
                failed.push(e.to_string());
            }
        }
        // Links this apply made inside namespaces it made go with the
        // namespace, but the kernel tears a namespace down in the background:
        // until then a macvlan in it keeps its MAC address on its parent, and
        // an apply right after would meet EADDRINUSE. Delete them first, all
        // at once (the deletions' RCU waits overlap), so the MACs are free
        // when rollback returns.
        let inside: Vec<(usize, IfName)> = journal
            .iter()
            .filter_map(|u| match u {
                Undo::Link { place, dev } if created.contains(place) => Some((*place, dev.clone())),
                _ => None,
            })
            .collect();
        let shared_handles = &*handles;
        let deletions = inside.iter().map(|(place, dev)| async move {
            let handles = shared_handles;
            match handles.get(*place) {
                Ok(nl) => match nl.delete_link(dev).await {
                    Ok(()) | Err(Error::NotFound(_)) => None,
                    Err(e) => Some(e.to_string()),
                },
                Err(_) => None,
            }
        });
        failed.extend(futures::future::join_all(deletions).await.into_iter().flatten());
        for undo in journal.iter().rev() {
            if let Undo::Netns { place } = undo {
                handles.drop_handle(*place);
                if let Some(name) = &places[*place].named {
                    match netns::delete(name).await {
                        // Deleted meanwhile by someone else: gone is what rollback wants.
                        Ok(()) | Err(Error::NotFound(_)) => {}
                        Err(e) => failed.push(e.to_string()),
                    }
                }
            }
        }
        failed
    }
}

/// Undoes one step.
async fn undo_one(undo: &Undo, handles: &mut Handles, places: &[Place]) -> Result<()> {
    match undo {
        Undo::Netns { .. } => Ok(()),
        Undo::Link { place, dev } => {
            match handles.nl(*place).await?.delete_link(dev).await {
                // Deleting a parent already took its children.
                Err(Error::NotFound(_)) => Ok(()),
                other => other,
            }
        }
        Undo::SetLink { place, dev, update } => match handles.nl(*place).await?.set_link(dev, update).await {
            Err(Error::NotFound(_)) => Ok(()),
            other => other,
        },
        Undo::DelAddress { place, dev, addr } => match handles.nl(*place).await?.delete_address(dev, addr).await {
            Err(Error::NotFound(_)) | Err(Error::InvalidArgument(_)) => Ok(()),
            other => other,
        },
        Undo::AddAddress { place, dev, addr } => match handles.nl(*place).await?.add_address(dev, addr).await {
            // There already (a checkpoint's step whose change never happened).
            Err(Error::AlreadyExists(_)) => Ok(()),
            other => other,
        },
        Undo::DelRoute { place, route } => match handles.nl(*place).await?.delete_route(route).await {
            Err(Error::NotFound(_)) => Ok(()),
            other => other,
        },
        Undo::ReplaceRoute { place, route } => handles.nl(*place).await?.replace_route(route).await,
        Undo::Sysctl { place, key, old } => sysctl::write(&places[*place].nsref, key, old).await,
        Undo::LabServer { server } => server.remove().await.map(|_| ()),
        Undo::Lease { topology, wanted, lease } => {
            leases::forget(topology, &wanted.endpoint, wanted.dev.as_str());
            leases::remove_resolv(wanted);
            if let Some(iface) = leases::interface(wanted, places) {
                let _ = dhcp::release(&iface, lease).await;
            }
            let nl = handles.nl(wanted.place).await?;
            dhcp::uninstall(nl, &wanted.dev, lease).await.map_err(leases::core_error)
        }
    }
}
