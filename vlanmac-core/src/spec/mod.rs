//! Pure, validated values: no I/O, no root, no kernel.
//!
//! Every constructor checks what the kernel (or iproute2) would check and
//! returns [`SpecError`] naming the field and the rule it broke, so a bad
//! value never reaches a netlink socket.

mod address;
mod error;
mod ifname;
mod ipvlan;
mod mac;
mod macvlan;
mod mtu;
mod netns_name;
mod prefix;
mod route;
mod serialize;
mod subnet;
mod vlan;

pub(crate) use address::address_message;
pub use address::{AddressSpec, Lifetimes};
pub use error::SpecError;
pub use ifname::IfName;
pub use ipvlan::{IpvlanFlags, IpvlanMode};
pub use mac::MacAddr;
pub use macvlan::{MacvlanMode, SourceMacOp};
pub use mtu::Mtu;
pub use netns_name::NetnsName;
pub(crate) use route::route_message;
pub use route::RouteSpec;
pub use route::RT_TABLE_MAIN;
pub use subnet::Subnet;
pub use vlan::{VlanFlags, VlanId, VlanProtocol};
