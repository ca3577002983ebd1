//! The request model of a [`super::Batch`]: one netlink request-to-be per
//! [`Micro`], what it acts on, what it creates, which indexes it needs, and
//! its message.

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::RouteNetlinkMessage as M;

use crate::{
    error::Result,
    link::{self, LinkUpdate, NewLink},
    netlink::{Call, Netlink, NetnsKey, Op},
    spec::{address_message, route_message, AddressSpec, IfName, RouteSpec},
};

/// One request-to-be, from change number `change`.
#[derive(Debug)]
pub(super) struct Micro<'a> {
    pub(super) change: usize,
    /// The socket that sends it.
    pub(super) nl: &'a Netlink,
    pub(super) what: Kind<'a>,
}

#[derive(Debug)]
pub(super) enum Kind<'a> {
    /// Creates `spec` (as given, `up` already settled) under its own name in
    /// `home` (the sender's namespace, or another one by fd).
    NewLink {
        spec: NewLink,
        home: &'a Netlink,
    },
    /// `RTM_SETLINK` by name (or by index when it renames).
    SetLink {
        dev: IfName,
        update: LinkUpdate,
    },
    DelLink {
        dev: IfName,
    },
    Address {
        dev: IfName,
        addr: AddressSpec,
        how: How,
    },
    Route {
        route: RouteSpec,
        how: How,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum How {
    Add,
    Replace,
    Delete,
}

/// A link in one namespace.
pub(super) type Key = (NetnsKey, IfName);

impl Micro<'_> {
    /// The link this request acts on (ordering is kept per link).
    pub(super) fn target(&self) -> Option<Key> {
        let ns = self.nl.netns_key();
        match &self.what {
            Kind::NewLink { spec, home } => Some((home.netns_key(), spec.name.clone())),
            Kind::SetLink { dev, .. } | Kind::DelLink { dev } | Kind::Address { dev, .. } => Some((ns, dev.clone())),
            Kind::Route { route, .. } => route.dev.clone().map(|d| (ns, d)),
        }
    }

    /// The links this request creates: its own, a veth's peer, the new name
    /// of a rename.
    pub(super) fn creates(&self) -> Vec<Key> {
        if let Kind::SetLink { update: LinkUpdate { name: Some(new), .. }, .. } = &self.what {
            return vec![(self.nl.netns_key(), new.clone())];
        }
        let Kind::NewLink { spec, home } = &self.what else { return Vec::new() };
        let mut out = vec![(home.netns_key(), spec.name.clone())];
        if let crate::link::LinkKindSpec::Veth(v) = &spec.kind {
            out.push((v.peer_netns_key.unwrap_or(home.netns_key()), v.peer.clone()));
        }
        out
    }

    /// Links whose index (and MTU) the message needs, in the sender's namespace.
    pub(super) fn needs_index(&self) -> Vec<IfName> {
        match &self.what {
            Kind::NewLink { spec, .. } => spec.kind.parent().cloned().into_iter().collect(),
            Kind::SetLink { dev, update } if update.name.is_some() => vec![dev.clone()],
            Kind::Address { dev, .. } => vec![dev.clone()],
            Kind::Route { route, .. } => route.dev.clone().into_iter().collect(),
            _ => Vec::new(),
        }
    }

    pub(super) fn op(&self) -> Op {
        let ns = self.nl.netns();
        match &self.what {
            Kind::NewLink { spec, home } => {
                Op::new(format!("{} in netns {}", spec.describe(), home.netns())).feature(spec.kind.feature())
            }
            Kind::SetLink { dev, update } => Op::new(format!("set link {dev} {} in netns {ns}", update.describe())),
            Kind::DelLink { dev } => Op::new(format!("delete link {dev} in netns {ns}")),
            Kind::Address { dev, addr, how } => Op::new(match how {
                How::Add => format!("add address {addr} to {dev} in netns {ns}"),
                How::Replace => format!("replace address {addr} on {dev} in netns {ns}"),
                How::Delete => format!("delete address {} from {dev} in netns {ns}", addr.net),
            }),
            Kind::Route { route, how } => Op::new(match how {
                How::Add => format!("add route {route} in netns {ns}"),
                How::Replace => format!("replace route {route} in netns {ns}"),
                How::Delete => format!("delete route {route} in netns {ns}"),
            }),
        }
    }
}

impl Micro<'_> {
    /// Its netlink request, with the indexes of the links it names filled
    /// in by `index` (the runner's knowledge of what exists).
    pub(super) fn call(&self, index: impl Fn(&IfName) -> Result<u32>) -> Result<Call> {
        let op = self.op();
        Ok(match &self.what {
            Kind::NewLink { spec, home } => {
                let parent = spec.kind.parent().map(&index).transpose()?;
                let fd = (!std::ptr::eq(*home, self.nl)).then(|| home.netns_raw_fd());
                let msg = link::new_link(spec, &spec.name, parent, fd);
                Call { msg: M::NewLink(msg), flags: NLM_F_CREATE | NLM_F_EXCL, op }
            }
            Kind::SetLink { dev, update } => {
                let msg = match &update.name {
                    Some(_) => link::set_link(index(dev)?, update),
                    None => link::set_link_by_name(dev, update),
                };
                Call { msg: M::SetLink(msg), flags: 0, op }
            }
            Kind::DelLink { dev } => Call { msg: M::DelLink(link::del_link_by_name(dev)), flags: 0, op },
            Kind::Address { dev, addr, how } => {
                let msg = address_message(index(dev)?, addr);
                match how {
                    How::Add => Call { msg: M::NewAddress(msg), flags: NLM_F_CREATE | NLM_F_EXCL, op },
                    How::Replace => Call { msg: M::NewAddress(msg), flags: NLM_F_CREATE | NLM_F_REPLACE, op },
                    How::Delete => Call { msg: M::DelAddress(msg), flags: 0, op },
                }
            }
            Kind::Route { route, how } => {
                let oif = route.dev.as_ref().map(&index).transpose()?;
                match how {
                    How::Add => Call {
                        msg: M::NewRoute(route_message(route, oif, false)),
                        flags: NLM_F_CREATE | NLM_F_EXCL,
                        op,
                    },
                    How::Replace => Call {
                        msg: M::NewRoute(route_message(route, oif, false)),
                        flags: NLM_F_CREATE | NLM_F_REPLACE,
                        op,
                    },
                    How::Delete => Call { msg: M::DelRoute(route_message(route, oif, true)), flags: 0, op },
                }
            }
        })
    }
}
