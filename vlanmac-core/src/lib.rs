//! # vlanmac-core
//!
//! A typed async API over route netlink for putting network namespaces on
//! 802.1Q VLANs through macvlan (and ipvlan): validated specs, namespaces
//! made without `fork`, a connection bound to a namespace, link, address,
//! route and neighbour operations, typed read-back and typed errors.
//!
//! The messages are built with `netlink-packet-route` and exchanged on a
//! `netlink-sys` socket owned by this crate, not through the `rtnetlink`
//! crate's connection task: the repository's docs/NETLINK.md says why.
//!
//! ```no_run
//! # async fn f() -> vlanmac_core::Result<()> {
//! use vlanmac_core::{netns, link::{Macvlan, NewLink}, spec::*, Netlink, NetnsRef};
//!
//! let host = Netlink::current().await?;
//! // ip link add link eth0 name eth0.10 type vlan id 10
//! let trunk: IfName = "eth0".parse()?;
//! let vlan = host.add_vlan(&trunk, VlanId::new(10)?).await?;
//! host.set_up(&vlan, true).await?;
//!
//! // ip netns add container0
//! let c0 = NetnsName::new("container0")?;
//! netns::create(&c0).await?;
//! let inner = Netlink::open(NetnsRef::Named(c0)).await?;
//!
//! // ip link add link eth0.10 name eth0 netns container0 type macvlan mode bridge
//! let mv = NewLink::new("eth0".parse()?, Macvlan::new(vlan, MacvlanMode::Bridge)).up();
//! host.add_link_into(&mv, &inner).await?;
//! // ip -n container0 addr add 10.0.10.2/24 dev eth0
//! inner.add_address(&"eth0".parse()?, &"10.0.10.2/24".parse()?).await?;
//! inner.add_route(&RouteSpec::default_via("10.0.10.1".parse().unwrap())).await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod error;
mod interrupt;
pub mod link;
pub mod lockfile;
pub mod marks;
pub mod netlink;
pub mod netns;
mod ops;
pub mod privileges;
pub mod readback;
pub mod spec;

/// The message types of [`NewLink::to_message`](link::NewLink::to_message),
/// [`AddressSpec::to_message`](spec::AddressSpec::to_message) and
/// [`RouteSpec::to_message`](spec::RouteSpec::to_message), and of the
/// read-back's `from_message`: the same crate and version an
/// `rtnetlink::Handle` speaks.
pub use netlink_packet_route;

pub use error::{Error, KernelError, Result};
pub use interrupt::Interrupt;
pub use netlink::{monitor::Monitor, FaultInjector, Netlink, RequestStats, Shared};
pub use netns::NetnsRef;
pub use ops::{temp_link_left_behind, temp_link_owner, Batch, BatchReport, Edit, TEMP_PREFIX};
pub use readback::{Address, Link, LinkKind, Neighbour, OperState, Route};

/// The crate's README.md, whose example is compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
