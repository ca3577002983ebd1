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

//!
//! The builder is here; `request.rs` holds the request model (what each
//! request acts on, creates and needs, and its netlink message),
//! `schedule.rs` the wave scheduler, `run.rs` the execution and undo.

mod request;
mod run;
mod schedule;

use crate::{
    error::{Error, Result},
    interrupt::Interrupt,
    link::{LinkUpdate, NewLink},
    netlink::Netlink,
    spec::{AddressSpec, IfName, RouteSpec},
};
use request::{How, Kind, Micro};
use run::Runner;

use super::temp_name::temp_ifname;

/// One change of a [`Batch`] as a value: what each of the builder
/// methods records, for callers that build changes apart from the batch
/// (the Python binding records them, then pushes them all).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Edit {
    /// `ip link add ...`: [`Batch::add_link`].
    AddLink(NewLink),
    /// `ip link set DEV ...`: [`Batch::set_link`].
    SetLink(IfName, LinkUpdate),
    /// `ip link del DEV`: [`Batch::delete_link`].
    DeleteLink(IfName),
    /// `ip addr add ADDR dev DEV`: [`Batch::add_address`].
    AddAddress(IfName, AddressSpec),
    /// `ip addr replace ADDR dev DEV`: [`Batch::replace_address`].
    ReplaceAddress(IfName, AddressSpec),
    /// `ip addr del ADDR dev DEV`: [`Batch::delete_address`].
    DeleteAddress(IfName, AddressSpec),
    /// `ip route add ...`: [`Batch::add_route`].
    AddRoute(RouteSpec),
    /// `ip route replace ...`: [`Batch::replace_route`].
    ReplaceRoute(RouteSpec),
    /// `ip route del ...`: [`Batch::delete_route`].
    DeleteRoute(RouteSpec),
}

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

    fn record(&mut self, change: usize, nl: &'a Netlink, what: Kind<'a>) {
        self.micros.push(Micro { change, nl, what });
    }

    fn next(&mut self) -> usize {
        self.changes += 1;
        self.changes - 1
    }

    /// Records `edit` to be sent through `nl`; returns the change's number.
    pub fn push(&mut self, nl: &'a Netlink, edit: Edit) -> usize {
        match edit {
            Edit::AddLink(spec) => self.add_link(nl, spec),
            Edit::SetLink(dev, update) => self.set_link(nl, &dev, update),
            Edit::DeleteLink(dev) => self.delete_link(nl, &dev),
            Edit::AddAddress(dev, addr) => self.add_address(nl, &dev, addr),
            Edit::ReplaceAddress(dev, addr) => self.replace_address(nl, &dev, addr),
            Edit::DeleteAddress(dev, addr) => self.delete_address(nl, &dev, addr),
            Edit::AddRoute(route) => self.add_route(nl, route),
            Edit::ReplaceRoute(route) => self.replace_route(nl, route),
            Edit::DeleteRoute(route) => self.delete_route(nl, route),
        }
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
            self.record(change, nl, Kind::NewLink { spec: create.clone(), home: target });
            if spec.up && rename.ipv6_addrgen.is_none() {
                rename.up = Some(true);
                self.record(change, target, Kind::SetLink { dev: create.name, update: rename });
            } else {
                self.record(change, target, Kind::SetLink { dev: create.name, update: rename });
                if spec.up {
                    // The kernel applies IFF_UP before IFLA_AF_SPEC: a separate request.
                    self.record(
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
        self.record(change, nl, Kind::NewLink { spec: create, home: target });
        if !after.is_empty() {
            self.record(change, target, Kind::SetLink { dev: spec.name.clone(), update: after });
        }
        if up_last {
            self.record(change, target, Kind::SetLink { dev: spec.name.clone(), update: LinkUpdate::new().up(true) });
        }
        change
    }

    /// [`Netlink::set_link`].
    pub fn set_link(&mut self, nl: &'a Netlink, dev: &IfName, update: LinkUpdate) -> usize {
        let change = self.next();
        self.record(change, nl, Kind::SetLink { dev: dev.clone(), update });
        change
    }

    /// `ip link set DEV up`.
    pub fn set_up(&mut self, nl: &'a Netlink, dev: &IfName) -> usize {
        self.set_link(nl, dev, LinkUpdate::new().up(true))
    }

    /// [`Netlink::delete_link`].
    pub fn delete_link(&mut self, nl: &'a Netlink, dev: &IfName) -> usize {
        let change = self.next();
        self.record(change, nl, Kind::DelLink { dev: dev.clone() });
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
        self.record(change, nl, Kind::Address { dev: dev.clone(), addr, how });
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
        self.record(change, nl, Kind::Route { route, how });
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
