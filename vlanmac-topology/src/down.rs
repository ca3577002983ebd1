//! `down`: removes what the topology's applies created and nothing else,
//! in batches: whole namespaces it created, then its links per namespace by
//! link group (one `RTM_DELLINK`), falling back to one by one only where a
//! group also holds links it must keep. A link another topology also owns
//! loses this topology's mark instead.
//!
//! What a run killed half-way left is removed too: a stale `/run/netns`
//! entry of one of the topology's namespaces, links in its group with no
//! alias yet, and temporary-named links whose creator is gone.
//!
//! With [`Options::dry_run`] the same walk only reads: every removal it
//! would make is listed (the same lines) and nothing is changed, not even
//! the topology's lock file is taken.

use serde::Serialize;

use super::{
    lab_server::LabServer,
    leases, marks,
    model::Topology,
    observe::{exists, Handles},
    options::Options,
    places::{places, Place, Role, HOST},
};
use vlanmac_core::{
    link::LinkUpdate,
    netlink::Netlink,
    netns::{self, NetnsRef},
    readback::Link,
    spec::IfName,
    Error, Result,
};

/// What `down` removed.
#[derive(Debug, Clone, Serialize)]
pub struct DownResult {
    /// The topology's name.
    pub topology: String,
    /// What was removed or unmarked, in order (after a dry run: what would
    /// be).
    pub removed: Vec<String>,
    /// Whether this was a dry run ([`Options::dry_run`]): nothing changed.
    pub dry_run: bool,
}

/// Removes what `t`'s applies created.
pub(crate) async fn down(t: &Topology, opts: &Options) -> Result<DownResult> {
    let shared = &opts.shared;
    let places = places(t)?;
    let dry = opts.dry_run;
    let _lock = if dry { None } else { Some(vlanmac_core::lockfile::lock(&t.name).await?) };
    let mut handles = Handles::new(&places, shared.clone());
    let mut removed = Vec::new();
    let name = &t.name;
    let lo = IfName::loopback();

    // Entries of its namespaces with no namespace mounted (a run killed
    // between creating the file and mounting): nothing to keep.
    for n in places.iter().filter_map(|p| p.named.as_ref()) {
        let stale = if dry { netns::entry(n) == netns::Entry::Stale } else { netns::remove_stale(n)? };
        if stale {
            removed.push(format!("stale netns entry {n} (no namespace mounted on it)"));
        }
    }

    // Which named namespaces are this topology's alone (marked on lo)?
    let mut own_ns = vec![false; places.len()];
    for (i, p) in places.iter().enumerate() {
        if p.named.is_some() && exists(p) {
            let lo_alias = handles.nl(i).await?.link(&lo).await?.alias;
            own_ns[i] = marks::owners(lo_alias.as_deref()) == [name.clone()].into();
        }
    }

    // 0. DHCP leases given back while their interfaces still hold them
    // (DHCPRELEASE is sent from the leased address).
    removed.extend(leases::release_all(t, &places, dry).await);

    // 1. Endpoints: their namespaces whole, or their links by group.
    for (i, p) in places.iter().enumerate() {
        if !matches!(p.role, Role::Endpoint(_)) || !exists(p) {
            continue;
        }
        if own_ns[i] {
            delete_netns(&mut handles, i, p, dry, &mut removed).await?;
        } else {
            remove_links(t, handles.nl(i).await?, p, dry, &mut removed).await?;
        }
    }
    // Namespaces this topology created for endpoints no longer in its file.
    for ns in netns::list()? {
        if places.iter().any(|p| p.named.as_ref() == Some(&ns)) {
            continue;
        }
        // It may vanish between the listing and here: then it is not ours to remove.
        let alias = match Netlink::open_shared(NetnsRef::Named(ns.clone()), shared).await {
            Ok(nl) => match nl.link(&lo).await {
                Ok(l) => l.alias,
                Err(Error::NotFound(_)) => continue,
                Err(e) => return Err(e),
            },
            Err(Error::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        if marks::owners(alias.as_deref()) == [name.clone()].into() {
            match if dry { Ok(()) } else { netns::delete(&ns).await } {
                Ok(()) | Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
            removed.push(format!("netns {ns} (no longer in the topology)"));
        }
    }

    // 2. The host side: shims, VLAN subinterfaces and the lab trunk, by
    // group (explicitly, so nothing lingers until a namespace is reaped).
    if exists(&places[HOST]) {
        let host = &places[HOST];
        remove_links(t, handles.nl(HOST).await?, host, dry, &mut removed).await?;
    }

    // 3. The lab's DHCP server, the lab router, then the host namespace
    // itself if it is ours.
    let server = LabServer::of_name(&t.name);
    if let Some(pid) = server.running() {
        if !dry {
            server.remove().await?;
        }
        removed.push(format!("lab DHCP server (dnsmasq pid {pid})"));
    } else if !dry {
        server.remove().await?; // its files, if a server died and left them
    }
    if !dry {
        // A change still waiting for confirmation has nothing left to roll
        // back: its checkpoint goes (its watchdog then stops).
        crate::checkpoint_file::forget(&t.name);
        let _ = std::fs::remove_dir(super::lab_server::state_dir(&t.name));
    }
    for (i, p) in places.iter().enumerate() {
        if p.role == Role::Router && exists(p) && own_ns[i] {
            delete_netns(&mut handles, i, p, dry, &mut removed).await?;
        }
    }
    if own_ns[HOST] && exists(&places[HOST]) {
        let host = places[HOST].clone();
        delete_netns(&mut handles, HOST, &host, dry, &mut removed).await?;
    }
    Ok(DownResult { topology: t.name.clone(), removed, dry_run: dry })
}

async fn delete_netns(handles: &mut Handles, i: usize, p: &Place, dry: bool, removed: &mut Vec<String>) -> Result<()> {
    handles.drop_handle(i);
    if let Some(n) = &p.named {
        if !dry {
            netns::delete(n).await?;
        }
        removed.push(format!("netns {n}"));
    }
    Ok(())
}

/// Removes the links of `nl`'s namespace that this topology owns: all at
/// once by group when the group holds only links owned by it alone, else
/// one by one; shared links just lose this topology's mark. With `dry`,
/// lists the same removals and changes nothing.
async fn remove_links(t: &Topology, nl: &Netlink, p: &Place, dry: bool, removed: &mut Vec<String>) -> Result<()> {
    let group = marks::group_of(&t.name);
    let mut links = nl.links().await?;
    // Temporary-named links a dead run left, whichever topology it was for.
    let (left_behind, kept): (Vec<Link>, Vec<Link>) =
        links.into_iter().partition(|l| vlanmac_core::temp_link_left_behind(&l.name));
    links = kept;
    for l in left_behind {
        if let Ok(dev) = IfName::new(l.name.clone()) {
            match if dry { Ok(()) } else { nl.delete_link(&dev).await } {
                Ok(()) | Err(Error::NotFound(_)) => {
                    removed.push(format!("link {}/{} (left by an interrupted run)", p.label, l.name));
                }
                Err(e) => return Err(e),
            }
        }
    }
    let sole = |l: &Link| marks::sole_owner(l.alias.as_deref(), l.group, &t.name);
    let shared_links: Vec<&Link> =
        links.iter().filter(|l| marks::owned_by(l.alias.as_deref(), &t.name) && !sole(l)).collect();
    for l in &shared_links {
        let alias = marks::without_owner(l.alias.as_deref(), &t.name).unwrap_or_default();
        if let Ok(dev) = IfName::new(l.name.clone()) {
            let update = LinkUpdate::new().alias(alias)?;
            if !dry {
                nl.set_link(&dev, &update).await?;
            }
            removed.push(format!("mark {} from {}/{} (still used by others)", t.name, p.label, l.name));
        }
    }
    let doomed: Vec<&Link> = links.iter().filter(|l| sole(l) && l.name != "lo").collect();
    if doomed.is_empty() {
        return Ok(());
    }
    let in_group: Vec<&Link> = links.iter().filter(|l| l.group == group).collect();
    let group_is_ours = !in_group.is_empty() && in_group.iter().all(|l| sole(l));
    if group_is_ours {
        if !dry {
            nl.delete_group(group).await?;
        }
        removed.push(format!(
            "links {} in {} (group {group:#x}, one request)",
            in_group.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(" "),
            p.label
        ));
    }
    // Whatever is ours outside the group (or the group was mixed); a dry
    // run's group is still there and was listed above.
    let left = if dry { links.clone() } else { nl.links().await? };
    let gone_with_group = |l: &Link| dry && group_is_ours && l.group == group;
    for l in left.iter().filter(|l| sole(l) && l.name != "lo" && !gone_with_group(l)) {
        if let Ok(dev) = IfName::new(l.name.clone()) {
            match if dry { Ok(()) } else { nl.delete_link(&dev).await } {
                Ok(()) | Err(Error::NotFound(_)) => removed.push(format!("link {}/{}", p.label, l.name)),
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}
