//! [`Batch`]: many changes, across one or more namespaces, sent packed and
//! in waves.
//!
//! Each change becomes one or more netlink requests. A wave sends, on each
//! namespace's socket, every request whose dependencies are met, packed many
//! to a datagram ([`Netlink::run`]); a request that needs something made in
//! the same wave (the index of a link created in it, or a link created there
//! through another namespace's socket) waits for the next wave, and so does
//! everything after it that touches the same link. So dependent steps wait
//! only for what they depend on, and `N` links with an address each and
//! `up` take three datagrams per 64 links instead of `3N` round trips.
//!
//! What follows a link's creation (its alias, IPv6 address generation, the
//! rename of a temporarily named link) always waits for the next wave: it
//! addresses the link by name, and must not reach a link of that name that
//! someone else made if the creation fails with EEXIST.

use std::collections::{HashMap, HashSet};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::{link::LinkMessage, RouteNetlinkMessage as M};

use super::{address::address_message, route::route_message, temp_name::temp_ifname};
use crate::{
    error::{Error, KernelError, Result},
    interrupt::Interrupt,
    link::{self, LinkUpdate, NewLink},
    netlink::{Call, Netlink, NetnsKey, Op},
    readback::Link,
    spec::{AddressSpec, IfName, RouteSpec},
};

/// Many changes to send together; see the module documentation.
///
/// ```no_run
/// # async fn f() -> vlanmac_core::Result<()> {
/// use vlanmac_core::{link::{Macvlan, NewLink}, spec::{IfName, MacvlanMode}, Batch, Netlink};
/// let nl = Netlink::current().await?;
/// let trunk = IfName::new("eth0")?;
/// let mut batch = Batch::new();
/// for i in 0..100u32 {
///     let name = IfName::new(format!("mv{i}"))?;
///     // ip link add link eth0 name mvI type macvlan mode bridge; ip link set mvI addrgenmode none
///     let spec = NewLink::new(name.clone(), Macvlan::new(trunk.clone(), MacvlanMode::Bridge)).ipv6_addrgen(false);
///     batch.add_link(&nl, spec);
///     batch.add_address(&nl, &name, format!("10.1.{}.{}/16", i / 250, i % 250 + 1).parse()?); // ip addr add
///     batch.set_up(&nl, &name); // ip link set mvI up
/// }
/// batch.run().await.into_result()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct Batch<'a> {
    micros: Vec<Micro<'a>>,
    changes: usize,
    interrupt: Option<Interrupt>,
}

/// One request-to-be, from change number `change`.
#[derive(Debug)]
struct Micro<'a> {
    change: usize,
    /// The socket that sends it.
    nl: &'a Netlink,
    what: Kind<'a>,
}

#[derive(Debug)]
enum Kind<'a> {
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
enum How {
    Add,
    Replace,
    Delete,
}

/// What a [`Batch`] did: one entry per change, in the order they were
/// added. `None`: not attempted (an earlier wave failed, validation before
/// the first write did, or the batch was interrupted).
#[derive(Debug)]
pub struct BatchReport {
    /// Each change's outcome.
    pub results: Vec<Option<Result<()>>>,
    /// Whether the batch stopped between two waves because its
    /// [`Interrupt`] was triggered.
    pub interrupted: bool,
}

impl BatchReport {
    /// The first change that failed, with its error.
    pub fn first_error(&self) -> Option<(usize, &Error)> {
        self.results.iter().enumerate().find_map(|(i, r)| match r {
            Some(Err(e)) => Some((i, e)),
            _ => None,
        })
    }

    /// Whether every change was made.
    pub fn is_ok(&self) -> bool {
        self.results.iter().all(|r| matches!(r, Some(Ok(()))))
    }

    /// `Ok` when every change was made, else the first error (changes not
    /// attempted are never the cause: an earlier wave's failure is).
    pub fn into_result(self) -> Result<()> {
        let mut skipped = 0;
        for r in self.results {
            match r {
                Some(Ok(())) => {}
                Some(Err(e)) => return Err(e),
                None => skipped += 1,
            }
        }
        if skipped > 0 {
            if self.interrupted {
                return Err(Error::Interrupted { before: format!("{skipped} changes of the batch") });
            }
            return Err(Error::NotAttempted { count: skipped });
        }
        Ok(())
    }
}

/// A link in one namespace.
type Key = (NetnsKey, IfName);

impl<'a> Batch<'a> {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    /// Stops the batch between two waves once `interrupt` is triggered: what
    /// is in flight completes, nothing more is sent, a change cut half-way is
    /// undone, and the report says `interrupted`.
    pub fn interrupt(&mut self, interrupt: &Interrupt) -> &mut Self {
        self.interrupt = Some(interrupt.clone());
        self
    }

    /// Number of changes added.
    pub fn len(&self) -> usize {
        self.changes
    }

    /// Whether no change was added.
    pub fn is_empty(&self) -> bool {
        self.changes == 0
    }

    fn push(&mut self, change: usize, nl: &'a Netlink, what: Kind<'a>) {
        self.micros.push(Micro { change, nl, what });
    }

    fn next(&mut self) -> usize {
        self.changes += 1;
        self.changes - 1
    }

    /// [`Netlink::add_link`] in `nl`'s namespace: create, then one
    /// `RTM_SETLINK` for what creation ignores (alias, IPv6 address
    /// generation), then `up`. Returns the change's number.
    pub fn add_link(&mut self, nl: &'a Netlink, spec: NewLink) -> usize {
        self.add_link_into(nl, spec, nl)
    }

    /// [`Netlink::add_link_into`]: the link's parent is in `nl`'s namespace;
    /// the link is created in `target`'s under a temporary name (`ip link add
    /// link P name vmtmp… netns NS type ...`: some kernels make it in the
    /// parent's namespace first, where a link of the final name may exist),
    /// then renamed there, in the same request that carries what creation
    /// ignores, and finished.
    pub fn add_link_into(&mut self, nl: &'a Netlink, spec: NewLink, target: &'a Netlink) -> usize {
        let change = self.next();
        let mut after = spec.after_create();
        let mut create = spec.clone();
        if !std::ptr::eq(nl, target) {
            create.name = temp_ifname();
            create.up = false;
            let mut rename = LinkUpdate { name: Some(spec.name.clone()), ..after };
            self.push(change, nl, Kind::NewLink { spec: create.clone(), home: target });
            if spec.up && rename.ipv6_addrgen.is_none() {
                rename.up = Some(true);
                self.push(change, target, Kind::SetLink { dev: create.name, update: rename });
            } else {
                self.push(change, target, Kind::SetLink { dev: create.name, update: rename });
                if spec.up {
                    // The kernel applies IFF_UP before IFLA_AF_SPEC: a separate request.
                    self.push(
                        change,
                        target,
                        Kind::SetLink { dev: spec.name.clone(), update: LinkUpdate::new().up(true) },
                    );
                }
            }
            return change;
        }
        let mut up_last = false;
        if !after.is_empty() {
            create.up = false;
            if spec.up {
                // The kernel applies IFF_UP before IFLA_AF_SPEC: a separate request.
                if after.ipv6_addrgen.is_some() {
                    up_last = true;
                } else {
                    after.up = Some(true);
                }
            }
        }
        self.push(change, nl, Kind::NewLink { spec: create, home: target });
        if !after.is_empty() {
            self.push(change, target, Kind::SetLink { dev: spec.name.clone(), update: after });
        }
        if up_last {
            self.push(change, target, Kind::SetLink { dev: spec.name.clone(), update: LinkUpdate::new().up(true) });
        }
        change
    }

    /// [`Netlink::set_link`].
    pub fn set_link(&mut self, nl: &'a Netlink, dev: &IfName, update: LinkUpdate) -> usize {
        let change = self.next();
        self.push(change, nl, Kind::SetLink { dev: dev.clone(), update });
        change
    }

    /// `ip link set DEV up`.
    pub fn set_up(&mut self, nl: &'a Netlink, dev: &IfName) -> usize {
        self.set_link(nl, dev, LinkUpdate::new().up(true))
    }

    /// [`Netlink::delete_link`].
    pub fn delete_link(&mut self, nl: &'a Netlink, dev: &IfName) -> usize {
        let change = self.next();
        self.push(change, nl, Kind::DelLink { dev: dev.clone() });
        change
    }

    /// [`Netlink::add_address`].
    pub fn add_address(&mut self, nl: &'a Netlink, dev: &IfName, addr: AddressSpec) -> usize {
        self.address(nl, dev, addr, How::Add)
    }

    /// [`Netlink::replace_address`].
    pub fn replace_address(&mut self, nl: &'a Netlink, dev: &IfName, addr: AddressSpec) -> usize {
        self.address(nl, dev, addr, How::Replace)
    }

    /// [`Netlink::delete_address`].
    pub fn delete_address(&mut self, nl: &'a Netlink, dev: &IfName, addr: AddressSpec) -> usize {
        self.address(nl, dev, addr, How::Delete)
    }

    fn address(&mut self, nl: &'a Netlink, dev: &IfName, addr: AddressSpec, how: How) -> usize {
        let change = self.next();
        self.push(change, nl, Kind::Address { dev: dev.clone(), addr, how });
        change
    }

    /// [`Netlink::add_route`].
    pub fn add_route(&mut self, nl: &'a Netlink, route: RouteSpec) -> usize {
        self.route(nl, route, How::Add)
    }

    /// [`Netlink::replace_route`].
    pub fn replace_route(&mut self, nl: &'a Netlink, route: RouteSpec) -> usize {
        self.route(nl, route, How::Replace)
    }

    /// [`Netlink::delete_route`].
    pub fn delete_route(&mut self, nl: &'a Netlink, route: RouteSpec) -> usize {
        self.route(nl, route, How::Delete)
    }

    fn route(&mut self, nl: &'a Netlink, route: RouteSpec, how: How) -> usize {
        let change = self.next();
        self.push(change, nl, Kind::Route { route, how });
        change
    }

    /// Sends everything, wave by wave, and stops after the first wave in
    /// which a change failed. Parents and devices that exist before the
    /// batch are looked up first, all at once; if one is missing (or an MTU
    /// exceeds its parent's) nothing is sent. A change made of several
    /// requests that failed half-way is undone (its link deleted).
    pub async fn run(self) -> BatchReport {
        Runner::new(self.changes, self.interrupt).run(self.micros).await
    }
}

impl Micro<'_> {
    /// The link this request acts on (ordering is kept per link).
    fn target(&self) -> Option<Key> {
        let ns = self.nl.netns_key();
        match &self.what {
            Kind::NewLink { spec, home } => Some((home.netns_key(), spec.name.clone())),
            Kind::SetLink { dev, .. } | Kind::DelLink { dev } | Kind::Address { dev, .. } => Some((ns, dev.clone())),
            Kind::Route { route, .. } => route.dev.clone().map(|d| (ns, d)),
        }
    }

    /// The links this request creates: its own, a veth's peer, the new name
    /// of a rename.
    fn creates(&self) -> Vec<Key> {
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
    fn needs_index(&self) -> Vec<IfName> {
        match &self.what {
            Kind::NewLink { spec, .. } => spec.kind.parent().cloned().into_iter().collect(),
            Kind::SetLink { dev, update } if update.name.is_some() => vec![dev.clone()],
            Kind::Address { dev, .. } => vec![dev.clone()],
            Kind::Route { route, .. } => route.dev.clone().into_iter().collect(),
            _ => Vec::new(),
        }
    }

    fn op(&self) -> Op {
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

/// What is known of a link: its index and MTU in its namespace.
#[derive(Debug, Clone, Copy)]
struct Known {
    index: u32,
    mtu: Option<u32>,
}

struct Runner {
    results: Vec<Option<Result<()>>>,
    known: HashMap<Key, Known>,
    interrupt: Option<Interrupt>,
    interrupted: bool,
}

impl Runner {
    fn new(changes: usize, interrupt: Option<Interrupt>) -> Self {
        Runner { results: (0..changes).map(|_| None).collect(), known: HashMap::new(), interrupt, interrupted: false }
    }

    fn report(self) -> BatchReport {
        BatchReport { results: self.results, interrupted: self.interrupted }
    }

    fn failed(&self) -> bool {
        self.results.iter().any(|r| matches!(r, Some(Err(_))))
    }

    /// Looks up (one packed GET per namespace) every link `micros` need by
    /// index that is not known yet and that none of them creates (those are
    /// looked up after their wave). A missing one fails the first change
    /// that needs it, with a message naming it as that change's parent or
    /// link.
    async fn resolve(&mut self, micros: &[Micro<'_>]) {
        let pending: HashSet<Key> = micros.iter().flat_map(Micro::creates).collect();
        let mut wanted: Vec<(&Netlink, IfName, usize)> = Vec::new();
        let mut contexts = HashMap::new();
        for m in micros {
            for name in m.needs_index() {
                let key = (m.nl.netns_key(), name.clone());
                if !pending.contains(&key) && !self.known.contains_key(&key) && !contexts.contains_key(&key) {
                    let role = if matches!(m.what, Kind::NewLink { .. }) { "parent" } else { "link" };
                    contexts.insert(key, format!("{}: {role} {name} not found in netns {}", m.op().what, m.nl.netns()));
                    wanted.push((m.nl, name, m.change));
                }
            }
        }
        for (name, nl, change, res) in lookup(&wanted).await {
            match res {
                Ok(k) => {
                    self.known.insert((nl.netns_key(), name), k);
                }
                Err(Error::NotFound(mut k)) => {
                    if let Some(c) = contexts.remove(&(nl.netns_key(), name)) {
                        k.op = c;
                    }
                    self.fail(change, Error::NotFound(k));
                }
                Err(e) => self.fail(change, e),
            }
        }
    }

    fn fail(&mut self, change: usize, e: Error) {
        if !matches!(self.results[change], Some(Err(_))) {
            self.results[change] = Some(Err(e));
        }
    }

    async fn run<'a>(mut self, micros: Vec<Micro<'a>>) -> BatchReport {
        // Everything looked up by index that this batch does not create must
        // exist now: one packed GET per namespace for all of them.
        self.resolve(&micros).await;
        // MTUs above the parent's are refused before anything is sent.
        for m in &micros {
            if let Kind::NewLink { spec, .. } = &m.what {
                if let (Some(p), Some(want)) = (spec.kind.parent(), spec.mtu) {
                    let have = self.known.get(&(m.nl.netns_key(), p.clone())).and_then(|k| k.mtu);
                    if let Some(have) = have.filter(|h| want.get() > *h) {
                        self.fail(m.change, mtu_error(spec, p, have));
                    }
                }
            }
        }
        if self.failed() {
            return self.report();
        }

        let mut remaining: Vec<Micro<'a>> = micros;
        let mut made: Vec<(usize, Key, &'a Netlink)> = Vec::new(); // links created: change, key, home
        let mut ok_micros: HashMap<usize, usize> = HashMap::new();
        let mut total_micros: HashMap<usize, usize> = HashMap::new();
        for m in &remaining {
            *total_micros.entry(m.change).or_default() += 1;
        }
        while !remaining.is_empty() {
            if self.interrupt.as_ref().is_some_and(Interrupt::is_triggered) {
                self.interrupted = true;
                break;
            }
            let (wave, later) = self.split_wave(remaining);
            remaining = later;
            if wave.is_empty() {
                // Waits on a link nothing creates: a missing link, named.
                if let Some(m) = remaining.first() {
                    let missing = m.needs_index().into_iter().next().map(|n| n.to_string()).unwrap_or_default();
                    let e = Error::NotFound(KernelError {
                        op: format!("{}: link {missing} not found in netns {}", m.op().what, m.nl.netns()),
                        errno: libc::ENODEV,
                        extack: None,
                        hint: None,
                    });
                    self.fail(m.change, e);
                }
                break;
            }
            // Group by socket, keeping order.
            let mut sockets: Vec<(&'a Netlink, Vec<(Micro<'a>, Call)>)> = Vec::new();
            for m in wave {
                let call = match self.call(&m) {
                    Ok(c) => c,
                    Err(e) => {
                        self.fail(m.change, e);
                        continue;
                    }
                };
                match sockets.iter_mut().find(|(nl, _)| std::ptr::eq(*nl, m.nl)) {
                    Some((_, v)) => v.push((m, call)),
                    None => sockets.push((m.nl, vec![(m, call)])),
                }
            }
            let mut renamed = Vec::new();
            let runs = sockets.into_iter().map(|(nl, items)| async move {
                let (ms, calls): (Vec<Micro<'a>>, Vec<Call>) = items.into_iter().unzip();
                let out = nl.run(calls).await;
                ms.into_iter().zip(out).collect::<Vec<_>>()
            });
            for (m, res) in futures::future::join_all(runs).await.into_iter().flatten() {
                match res {
                    Ok(_) => {
                        *ok_micros.entry(m.change).or_default() += 1;
                        match &m.what {
                            Kind::NewLink { home, .. } => {
                                if let Some(key) = m.target() {
                                    made.push((m.change, key, home));
                                }
                            }
                            Kind::SetLink { dev, update } => {
                                if let Some(new) = &update.name {
                                    renamed.push((m.nl.netns_key(), dev.clone(), new.clone()));
                                    made.push((m.change, (m.nl.netns_key(), new.clone()), m.nl));
                                }
                            }
                            Kind::DelLink { dev } => {
                                self.known.remove(&(m.nl.netns_key(), dev.clone()));
                            }
                            _ => {}
                        }
                    }
                    Err(e) => self.fail(m.change, e),
                }
            }
            for (ns, old, new) in renamed {
                if let Some(k) = self.known.remove(&(ns, old)) {
                    self.known.insert((ns, new), k);
                }
            }
            if self.failed() {
                break;
            }
            // Look up the links just made that later requests need by index.
            self.resolve(&remaining).await;
            if self.failed() {
                break;
            }
        }
        // Changes whose every request went through succeeded; a change cut
        // half-way has its link removed so nothing half-made stays.
        let mut undo: Vec<(&Netlink, IfName)> = Vec::new();
        for (change, total) in total_micros {
            let ok = ok_micros.get(&change).copied().unwrap_or(0);
            if ok == total {
                if self.results[change].is_none() {
                    self.results[change] = Some(Ok(()));
                }
            } else if ok > 0 || matches!(self.results[change], Some(Err(_))) {
                for (c, (_, name), home) in &made {
                    if *c == change {
                        undo.push((*home, name.clone()));
                    }
                }
            }
        }
        for (home, name) in undo {
            let op = Op::new(format!("delete link {name} in netns {}", home.netns()));
            let _ = home.run(vec![Call { msg: M::DelLink(link::del_link_by_name(&name)), flags: 0, op }]).await;
        }
        self.report()
    }

    /// The requests that can go now, and the rest (order kept).
    fn split_wave<'a>(&self, micros: Vec<Micro<'a>>) -> (Vec<Micro<'a>>, Vec<Micro<'a>>) {
        let mut now = Vec::new();
        let mut later = Vec::new();
        // Links created in this wave.
        let mut created: HashSet<Key> = HashSet::new();
        let mut held: HashSet<Key> = HashSet::new();
        let mut hold_all = false;
        for m in micros {
            let ns = m.nl.netns_key();
            let target = m.target();
            // Whatever acts on a link created in this wave waits for the
            // next one: it is sent only if the creation succeeded.
            let waits = hold_all
                || target.as_ref().is_some_and(|t| held.contains(t) || created.contains(t))
                || m.needs_index().into_iter().any(|n| {
                    let key = (ns, n);
                    held.contains(&key) || created.contains(&key) || !self.known.contains_key(&key)
                });
            if waits {
                match &target {
                    Some(t) => {
                        held.insert(t.clone());
                    }
                    // A route without a device may depend on any address.
                    None => hold_all = true,
                }
                held.extend(m.creates());
                later.push(m);
                continue;
            }
            created.extend(m.creates());
            now.push(m);
        }
        (now, later)
    }

    /// The netlink request for `m`, with indexes filled in.
    fn call(&self, m: &Micro<'_>) -> Result<Call> {
        let ns = m.nl.netns_key();
        let index = |name: &IfName| -> Result<u32> {
            self.known.get(&(ns, name.clone())).map(|k| k.index).ok_or_else(|| {
                Error::NotFound(KernelError {
                    op: format!("look up link {name} in netns {}", m.nl.netns()),
                    errno: libc::ENODEV,
                    extack: None,
                    hint: None,
                })
            })
        };
        let op = m.op();
        Ok(match &m.what {
            Kind::NewLink { spec, home } => {
                let parent = spec.kind.parent().map(index).transpose()?;
                let fd = (!std::ptr::eq(*home, m.nl)).then(|| home.netns_raw_fd());
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
                let oif = route.dev.as_ref().map(index).transpose()?;
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

/// Looks up every `(socket, name)` with one packed exchange per socket.
async fn lookup<'n>(wanted: &[(&'n Netlink, IfName, usize)]) -> Vec<(IfName, &'n Netlink, usize, Result<Known>)> {
    let mut by_socket: Vec<(&'n Netlink, Vec<(IfName, usize)>)> = Vec::new();
    for (nl, name, change) in wanted {
        match by_socket.iter_mut().find(|(n, _)| std::ptr::eq(*n, *nl)) {
            Some((_, v)) => v.push((name.clone(), *change)),
            None => by_socket.push((nl, vec![(name.clone(), *change)])),
        }
    }
    let mut out = Vec::new();
    for (nl, names) in by_socket {
        let calls = names
            .iter()
            .map(|(name, _)| Call {
                msg: M::GetLink(link::get_link_by_name(name)),
                flags: 0,
                op: Op::new(format!("look up link {name} in netns {}", nl.netns())),
            })
            .collect();
        for ((name, change), res) in names.into_iter().zip(nl.run(calls).await) {
            let known = res.and_then(|(msgs, _)| {
                msgs.iter()
                    .find_map(|m| if let M::NewLink(l) = m { known_of(l) } else { None })
                    .ok_or_else(|| Error::Decode { what: format!("look up link {name}"), detail: "no link".into() })
            });
            out.push((name, nl, change, known));
        }
    }
    out
}

fn known_of(l: &LinkMessage) -> Option<Known> {
    let link = Link::from_message(l)?;
    Some(Known { index: link.index, mtu: link.mtu })
}

fn mtu_error(spec: &NewLink, parent: &IfName, have: u32) -> Error {
    Error::InvalidArgument(KernelError {
        op: format!("{} with mtu {}", spec.describe(), spec.mtu.map(|m| m.get()).unwrap_or(0)),
        errno: libc::EINVAL,
        extack: None,
        hint: Some(format!("the mtu exceeds the parent {parent}'s mtu {have}")),
    })
}
