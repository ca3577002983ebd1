//! What `plan`, `apply` and `verify` read before they act, and the plan
//! verb: the topology's places, the kernel's state in each (one read), the
//! state the kernel should hold (IPAM and MACs included) and the plan that
//! gets it there.

use std::net::IpAddr;

use serde::Serialize;

use super::{
    desired::Desired,
    leases::Served,
    model::Topology,
    observe::{observe, Handles, Seen},
    places::{places, places_allowing_absent, Place, Role},
    plan::Plan,
    planner::{desired_state, plan},
};
use vlanmac_core::{netlink::Shared, Result};

/// An address of an endpoint's interface, as the topology names it or IPAM
/// chose it (`ip -n NETNS addr show dev INTERFACE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointAddress {
    /// The endpoint's name.
    pub endpoint: String,
    /// The interface, inside the endpoint's namespace.
    pub interface: String,
    /// The address.
    pub address: IpAddr,
    /// Its prefix length (the network's subnet).
    pub prefix_len: u8,
}

/// The sysctls plans read: the lab router's, and those of each endpoint
/// interface on a `dhcp: true` network.
pub(crate) fn sysctl_keys(t: &Topology, places: &[Place]) -> Vec<(usize, String)> {
    let mut keys = Vec::new();
    for (i, p) in places.iter().enumerate() {
        if let (Role::Router, Some(lab)) = (&p.role, &t.lab) {
            keys.extend(super::desired::router_sysctls(&lab.trunk).into_iter().map(|(k, _)| (i, k)));
        }
        let Some(e) = p.endpoint().and_then(|name| t.endpoints.iter().find(|e| e.name == name)) else { continue };
        for (j, a) in e.attach.iter().enumerate().filter(|(_, a)| t.network(&a.network).is_some_and(|n| n.dhcp)) {
            let sysctls = super::desired::served_sysctls(&a.ifname, a.ipv6_slaac, j == 0);
            keys.extend(sysctls.into_iter().map(|(k, _)| (i, k)));
        }
    }
    keys
}

/// Reads the kernel and computes the plan (changes nothing), with the
/// addresses each endpoint interface is to hold, from the same read.
pub(crate) async fn plan_topology(t: &Topology, shared: &Shared) -> Result<(Plan, Vec<EndpointAddress>)> {
    let Reading { places, plan, desired, .. } = read_and_plan(t, shared).await?;
    Ok((plan, endpoint_addresses(&places, &desired)))
}

/// What plan and apply read before they act: `t`'s places, their handles
/// (kept open for an apply), the plan and the state the kernel should hold
/// (IPAM and MACs included). Verify reads the same through
/// [`observe_places`] and `planner::desired_state`, without planning.
pub(crate) struct Reading {
    pub(crate) places: Vec<Place>,
    pub(crate) handles: Handles,
    pub(crate) plan: Plan,
    pub(crate) desired: Desired,
}

/// Reads the kernel for `t` and plans against it (changes nothing).
pub(crate) async fn read_and_plan(t: &Topology, shared: &Shared) -> Result<Reading> {
    let places = places(t)?;
    let (handles, seen) = observe_places(&places, &sysctl_keys(t, &places), shared).await?;
    let (plan, desired) = plan(t, &places, &seen, &Served::read(t))?;
    Ok(Reading { places, handles, plan, desired })
}

/// Reads what every place holds now (and the `sysctls` asked for); the
/// handles opened (to the places that exist) stay open for what follows.
pub(crate) async fn observe_places(
    places: &[Place],
    sysctls: &[(usize, String)],
    shared: &Shared,
) -> Result<(Handles, Vec<Seen>)> {
    let mut handles = Handles::new(places, shared.clone());
    let seen = observe(places, &mut handles, sysctls).await?;
    Ok((handles, seen))
}

/// The endpoints' addresses among those `desired` holds (the router's and
/// the host shim's are not an endpoint's).
pub(crate) fn endpoint_addresses(places: &[Place], desired: &Desired) -> Vec<EndpointAddress> {
    desired
        .addresses
        .iter()
        .filter_map(|(p, dev, a)| {
            Some(EndpointAddress {
                endpoint: places.get(*p)?.endpoint()?.to_string(),
                interface: dev.to_string(),
                address: a.addr(),
                prefix_len: a.prefix_len(),
            })
        })
        .collect()
}

/// What verify checks against: every place (those missing included), the
/// handles opened to those that exist, what each holds, and the state the
/// kernel should hold.
pub(crate) struct Observed {
    pub(crate) places: Vec<Place>,
    pub(crate) handles: Handles,
    pub(crate) seen: Vec<Seen>,
    pub(crate) desired: Desired,
}

/// Reads the kernel for verifying `t` (links, addresses and routes; no
/// sysctls) without planning.
pub(crate) async fn observe_for_verify(t: &Topology, shared: &Shared) -> Result<Observed> {
    let places = places_allowing_absent(t);
    let (handles, seen) = observe_places(&places, &[], shared).await?;
    let desired = desired_state(t, &places, &seen)?;
    Ok(Observed { places, handles, seen, desired })
}

/// What verify checks against on a kernel that holds nothing of `t`:
/// every place absent, nothing opened. A verify over it makes the checks
/// of a real one (each failed, none sent), without the kernel.
pub(crate) fn unobserved(t: &Topology) -> Result<Observed> {
    let places = places_allowing_absent(t);
    let seen: Vec<Seen> = places.iter().map(|_| Seen::default()).collect();
    let desired = desired_state(t, &places, &seen)?;
    let handles = Handles::new(&places, Shared::default());
    Ok(Observed { places, handles, seen, desired })
}
