//! The master and its VLAN subinterface in the runtime's namespace: found
//! (the master defaults to the interface of the default route, as the
//! reference macvlan plugin does), made on demand, marked, shared, and
//! removed with its last user, never when vlanmac did not make it.
//!
//! Marks are vlanmac's own (see `vlanmac_core::marks`): the VLAN
//! is created in the group of its owner `cni:NETWORK` and then gets the
//! alias `vlanmac:cni:NETWORK`; a VLAN a topology or another CNI network
//! made gets this network's owner added, so each goes with its last owner.

use futures::executor::block_on;
use vlanmac_core::{
    link::{LinkUpdate, NewLink, Vlan},
    marks,
    readback::{Link, LinkKind},
    spec::IfName,
    Netlink,
};

use crate::{
    error::{from_core, CniError, Code, Result},
    netconf::NetConf,
    state,
};

/// The master named by the configuration, or the interface of the
/// runtime namespace's default route.
pub fn master(host: &Netlink, conf: &NetConf) -> Result<Link> {
    if let Some(m) = &conf.master {
        return block_on(host.link(m)).map_err(|e| match e {
            vlanmac_core::Error::NotFound(_) => {
                CniError::new(Code::InvalidConfig, format!("master: {m} does not exist in the runtime's namespace"))
            }
            other => from_core(other),
        });
    }
    let routes = block_on(host.routes()).map_err(from_core)?;
    let oif = routes.iter().filter(|r| r.is_default()).find_map(|r| r.oif).ok_or_else(|| {
        CniError::new(Code::InvalidConfig, "master: not given, and the runtime's namespace has no default route")
    })?;
    let links = block_on(host.links()).map_err(from_core)?;
    links.into_iter().find(|l| l.index == oif).ok_or_else(|| {
        CniError::new(Code::InvalidConfig, format!("master: the default route's interface (index {oif}) is gone"))
    })
}

/// Whether `l` is VLAN `conf.vlan` (with its protocol) on `master`.
fn is_our_vlan(l: &Link, master: &Link, conf: &NetConf) -> bool {
    let parent_ok = l.parent.as_ref().is_some_and(|p| p.index == master.index && p.netnsid.is_none());
    matches!(&l.kind, LinkKind::Vlan { id, protocol, .. } if *id == conf.vlan && *protocol == Some(conf.vlan_protocol))
        && parent_ok
}

/// Makes sure `<master>.<vlan>` exists, is up and carries this network's
/// mark (unless it existed before, unmarked: then it is left as it is and
/// never removed). Call with the master's lock held.
pub fn ensure(host: &Netlink, master: &Link, name: &IfName, conf: &NetConf) -> Result<Link> {
    let owner = owner(&conf.name);
    match block_on(host.link(name)) {
        Ok(l) => {
            if !is_our_vlan(&l, master, conf) {
                return Err(CniError::new(
                    Code::InvalidConfig,
                    format!(
                        "vlan: {name} exists but is not VLAN {} ({}) on {}; vlanmac-cni will not use it",
                        conf.vlan.map(|v| v.get()).unwrap_or(0),
                        conf.vlan_protocol,
                        master.name
                    ),
                ));
            }
            let owners = marks::owners(l.alias.as_deref());
            let shared = !owners.is_empty() && !owners.contains(&owner);
            let interrupted = owners.is_empty() && l.group == marks::group_of(&owner);
            if shared || interrupted {
                let alias = marks::with_owner(l.alias.as_deref(), &owner);
                block_on(host.set_link(name, &LinkUpdate::new().alias(alias)?)).map_err(from_core)?;
            }
            if !l.admin_up && (shared || interrupted || owners.contains(&owner)) {
                block_on(host.set_up(name, true)).map_err(from_core)?;
            }
            Ok(l)
        }
        Err(vlanmac_core::Error::NotFound(_)) => {
            let master_name = IfName::new(master.name.clone())?;
            let id = conf.vlan.ok_or_else(|| CniError::new(Code::Internal, "no vlan to make"))?;
            let spec = NewLink::new(name.clone(), Vlan::new(master_name, id).protocol(conf.vlan_protocol))
                .group(marks::group_of(&owner))
                .alias(marks::alias_of(&[owner].into()))?
                .up();
            block_on(host.add_link(&spec)).map_err(from_core)?;
            block_on(host.link(name)).map_err(from_core)
        }
        Err(e) => Err(from_core(e)),
    }
}

/// The owner token network `network`'s VLANs carry in their vlanmac mark
/// (`vlanmac:cni:<network>`): `:` cannot occur in a topology's name, so
/// topologies and CNI networks can share a VLAN without mistaking each
/// other's marks.
pub fn owner(network: &str) -> String {
    format!("cni:{network}")
}

/// After network `network`'s last attachment on VLAN `name` went: its mark
/// goes, and the VLAN too when no owner and no attachment is left. A VLAN
/// that existed before, unmarked, is never touched. Call with the master's
/// lock held; `network_users` is how many attachments of this network
/// still use it, `users` how many of any network.
pub fn release(host: &Netlink, name: &IfName, network: &str, network_users: usize, users: usize) -> Result<()> {
    let owner = owner(network);
    let l = match block_on(host.link(name)) {
        Ok(l) => l,
        Err(vlanmac_core::Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(from_core(e)),
    };
    let owners = marks::owners(l.alias.as_deref());
    let ours = owners.contains(&owner) || marks::sole_owner(l.alias.as_deref(), l.group, &owner);
    if !ours || network_users > 0 {
        return Ok(());
    }
    match marks::without_owner(l.alias.as_deref(), &owner) {
        None if users == 0 => match block_on(host.delete_link(name)) {
            Ok(()) | Err(vlanmac_core::Error::NotFound(_)) => Ok(()),
            Err(e) => Err(from_core(e)),
        },
        // Others still use it: only this network's mark goes.
        None => Ok(()),
        Some(rest) => block_on(host.set_link(name, &LinkUpdate::new().alias(rest)?)).map_err(from_core),
    }
}

/// Releases VLAN `vlan` on `master` for `network` if none of the network's
/// recorded attachments uses it any more. Call with the master's lock held.
pub fn release_if_unused(host: &Netlink, master: &str, vlan: &IfName, network: &str) -> Result<()> {
    let users = state::users_of(master, vlan.as_str())?;
    let mine = users.iter().filter(|r| r.network == network).count();
    release(host, vlan, network, mine, users.len())
}
