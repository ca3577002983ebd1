//! vlanmac's own DHCPv4 client, in process: leases for interfaces in any
//! namespace, many at once, installed with the lease's lifetimes.
//!
//! - [`message`]: the requests and answers (RFC 2131), encoded and decoded
//!   by the `dhcproto` crate (public: a datagram from the network is
//!   decoded by [`message::reply`], which never panics; `scripts/fuzz`
//!   runs it under libFuzzer);
//! - `lease.rs`: a granted lease, its timers (T1, T2, expiry), its JSON;
//! - `machine.rs`: the client's states as a value fed with datagrams
//!   (SELECTING, REQUESTING, INIT-REBOOT, RENEWING, REBINDING), no I/O;
//! - `exchange.rs`: UDP sockets opened in each interface's namespace and
//!   one thread that drives every client with `poll`.
//!
//! Why `dhcproto` and not `mozim` (the client netavark's DHCP proxy uses):
//! mozim brings its own netlink stack (rtnetlink 0.23, a second
//! `netlink-packet-route` and `nix` beside vlanmac's), binds by interface
//! name in the namespace of the thread that runs its tokio runtime (one
//! runtime per namespace to serve fifty endpoints), and listens on raw
//! sockets with a BPF filter. With `dhcproto` for the wire format, the
//! states are a small value tested without root, the sockets are opened
//! the way vlanmac opens every socket (inside the namespace, on a thread of
//! its own), and the address goes in through vlanmac's executor with the
//! lease's lifetimes.
//!
//! What the client does not do: DHCPv6 (IPv6 comes from router
//! advertisements), duplicate address detection with ARP before using an
//! address (RFC 5227), relays, classless static routes.
//!
//! ```no_run
//! # async fn f() -> vlanmac_topology::Result<()> {
//! use std::time::Duration;
//! use vlanmac_core::{netns::NetnsRef, Netlink};
//! use vlanmac_topology::dhcp::{self, Goal, Interface};
//!
//! // dhclient -1 eth0, in namespace c2
//! let iface = Interface::new(NetnsRef::named("c2")?, "eth0".parse()?, "02:42:0a:00:14:39".parse()?);
//! let mut out = dhcp::exchange(vec![(iface.clone(), Goal::Acquire { previous: None })], Duration::from_secs(10)).await?;
//! let lease = out.remove(0)?.lease;
//! let nl = Netlink::open(iface.netns.clone()).await?;
//! dhcp::install(&nl, &iface.ifname, &lease).await?;   // address (lease lifetimes) + default route
//! // ... later: dhclient -r
//! dhcp::release(&iface, &lease).await?;
//! dhcp::uninstall(&nl, &iface.ifname, &lease).await?;
//! # Ok(()) }
//! ```

mod exchange;
mod lease;
mod machine;
pub mod message;

pub use exchange::{exchange, release, Interface, Outcome};
pub use lease::{unix_now, Lease};
pub use machine::Goal;
use vlanmac_core::{
    spec::{IfName, RouteSpec},
    Netlink,
};

use crate::error::{Error, Result};

/// Puts `lease` on `ifname`: its address with what is left of the lease as
/// lifetimes (`ip addr replace ADDR/PLEN dev IFNAME valid_lft S
/// preferred_lft S`), then the default route through its router (`ip route
/// replace default via ROUTER dev IFNAME`). Calling it again after a renewal
/// extends the lifetimes.
pub async fn install(nl: &Netlink, ifname: &IfName, lease: &Lease) -> Result<()> {
    let addr = lease.address_spec(unix_now()).ok_or_else(|| Error::Dhcp {
        interface: ifname.to_string(),
        reason: format!("the lease of {} has expired", lease.address),
    })?;
    nl.replace_address(ifname, &addr).await?;
    if let Some(router) = lease.router {
        nl.replace_route(&RouteSpec::default_via(router.into()).with_dev(ifname.clone())).await?;
    }
    Ok(())
}

/// Takes `lease` off `ifname`: the default route through its router, then
/// the address (`ip addr del`); what is already gone is not an error.
pub async fn uninstall(nl: &Netlink, ifname: &IfName, lease: &Lease) -> Result<()> {
    if let Some(router) = lease.router {
        match nl.delete_route(&RouteSpec::default_via(router.into()).with_dev(ifname.clone())).await {
            Ok(()) | Err(vlanmac_core::Error::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let addr = vlanmac_core::spec::AddressSpec::new(lease.address.into(), lease.prefix_len)?;
    match nl.delete_address(ifname, &addr).await {
        Ok(()) | Err(vlanmac_core::Error::NotFound(_)) => Ok(()),
        // "Address not found" (the kernel dropped it at expiry, or it was
        // taken off already).
        Err(vlanmac_core::Error::InvalidArgument(k)) if k.errno == libc::EADDRNOTAVAIL => Ok(()),
        Err(e) => Err(e.into()),
    }
}
