//! IPAM: fills in omitted addresses, skipping the network, gateway and
//! broadcast addresses, staying inside `ip_range`, and avoiding addresses
//! used elsewhere in the topology or already present in the kernel.
//! Allocation is sticky: an interface that already holds an address in the
//! subnet keeps it, so a second apply changes nothing.

use std::{
    collections::{BTreeMap, HashSet},
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use ipnet::IpNet;

use super::model::{NetSubnet, Network, Topology};
use vlanmac_core::spec::{MacAddr, SpecError};

/// The addresses and MAC of one attachment after IPAM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    /// IPv4, if the network has an IPv4 subnet.
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6, if the network has an IPv6 subnet.
    pub ipv6: Option<Ipv6Addr>,
    /// The MAC address.
    pub mac: MacAddr,
}

/// Assignments by (endpoint, attachment index).
pub type Assignments = BTreeMap<(String, usize), Assigned>;

/// First and last address of the pool of `s`, as integers.
fn pool_bounds(s: &NetSubnet) -> (u128, u128) {
    let net = s.ip_range.unwrap_or(s.subnet.net());
    match net {
        IpNet::V4(n) => (u128::from(u32::from(n.network())), u128::from(u32::from(n.broadcast()))),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

fn to_ip(v6: bool, x: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(x))
    } else {
        IpAddr::V4(Ipv4Addr::from(x as u32))
    }
}

/// Whether IPAM may hand out `a` from `s` at all (not the network,
/// broadcast, gateway or an aux address).
fn assignable(s: &NetSubnet, a: IpAddr) -> bool {
    let net = s.subnet.net();
    let small = if a.is_ipv4() { net.prefix_len() >= 31 } else { net.prefix_len() >= 127 };
    if !small && (a == net.network() || (a.is_ipv4() && a == net.broadcast())) {
        return false;
    }
    s.gateway() != Some(a) && !s.aux_addresses.iter().any(|(_, x)| *x == a)
}

/// Statically configured addresses of the topology (endpoints and shims).
pub(crate) fn static_addresses(t: &Topology) -> HashSet<IpAddr> {
    let mut set = HashSet::new();
    for e in &t.endpoints {
        for a in &e.attach {
            set.extend(a.ipv4.map(IpAddr::V4));
            set.extend(a.ipv6.map(IpAddr::V6));
        }
    }
    for n in &t.networks {
        if let Some(s) = &n.host_shim {
            set.extend(s.ipv4.map(IpAddr::V4));
            set.extend(s.ipv6.map(IpAddr::V6));
        }
    }
    set
}

fn needing(t: &Topology, n: &Network, v6: bool) -> usize {
    t.endpoints
        .iter()
        .flat_map(|e| &e.attach)
        .filter(|a| {
            a.network == n.name && if v6 { a.ipv6.is_none() && !a.ipv6_slaac } else { a.ipv4.is_none() && !a.ipv4_dhcp }
        })
        .count()
}

/// Checks that every network's pools can serve its endpoints without a
/// static address.
pub(crate) fn check_pools(t: &Topology) -> Result<(), SpecError> {
    let statics = static_addresses(t);
    for n in &t.networks {
        for v6 in [false, true] {
            let subnets: Vec<(usize, &NetSubnet)> =
                n.subnets.iter().enumerate().filter(|(_, s)| s.subnet.is_ipv6() == v6).collect();
            let Some((first, _)) = subnets.first() else {
                continue;
            };
            let need = needing(t, n, v6) as u128;
            if need == 0 {
                continue;
            }
            let mut free: u128 = 0;
            for (_, s) in &subnets {
                let (lo, hi) = pool_bounds(s);
                let size = hi - lo + 1;
                // Count what is excluded inside the pool (at most a few dozen).
                let mut excluded: HashSet<IpAddr> = statics.iter().copied().filter(|a| in_pool(s, *a)).collect();
                let net = s.subnet.net();
                for a in [Some(net.network()), Some(net.broadcast()), s.gateway()].into_iter().flatten() {
                    if in_pool(s, a) && !assignable(s, a) {
                        excluded.insert(a);
                    }
                }
                excluded.extend(s.aux_addresses.iter().map(|(_, a)| *a).filter(|a| in_pool(s, *a)));
                free = free.saturating_add(size.saturating_sub(excluded.len() as u128));
            }
            if free < need {
                let s = subnets[0].1;
                let (field, pool) = match s.ip_range {
                    Some(r) => ("ip_range", r),
                    None => ("subnet", s.subnet.net()),
                };
                return Err(SpecError::new(
                    format!("networks.{}.subnets[{first}].{field}", n.name),
                    pool,
                    format!(
                        "has {free} free address{} for {need} endpoint{} without a static {}",
                        if free == 1 { "" } else { "es" },
                        if need == 1 { "" } else { "s" },
                        if v6 { "ipv6" } else { "ipv4" }
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn in_pool(s: &NetSubnet, a: IpAddr) -> bool {
    s.ip_range.unwrap_or(s.subnet.net()).contains(&a)
}

/// Assigns addresses and MACs to every attachment. `present` holds every
/// address found in the kernel in the namespaces involved; `current` gives,
/// per (endpoint, interface name), the addresses that interface holds now.
pub fn assign(
    t: &Topology,
    present: &HashSet<IpAddr>,
    current: &BTreeMap<(String, String), Vec<IpAddr>>,
) -> Result<Assignments, SpecError> {
    let mut taken: HashSet<IpAddr> = static_addresses(t);
    taken.extend(present.iter().copied());
    let mut out = Assignments::new();
    // Sticky first: interfaces that hold a fitting address keep it.
    let mut sticky: BTreeMap<(String, usize), (Option<Ipv4Addr>, Option<Ipv6Addr>)> = BTreeMap::new();
    for e in &t.endpoints {
        for (i, a) in e.attach.iter().enumerate() {
            let Some(n) = t.network(&a.network) else {
                continue;
            };
            let have = current.get(&(e.name.clone(), a.ifname.to_string())).cloned().unwrap_or_default();
            let pick = |v6: bool| {
                have.iter().copied().find(|ip| {
                    ip.is_ipv6() == v6
                        && n.subnets.iter().any(|s| s.subnet.is_ipv6() == v6 && in_pool(s, *ip) && assignable(s, *ip))
                })
            };
            let v4 = a.ipv4.or_else(|| pick(false).and_then(|ip| if let IpAddr::V4(x) = ip { Some(x) } else { None }));
            let v6 = a.ipv6.or_else(|| pick(true).and_then(|ip| if let IpAddr::V6(x) = ip { Some(x) } else { None }));
            sticky.insert((e.name.clone(), i), (v4, v6));
        }
    }
    for e in &t.endpoints {
        for (i, a) in e.attach.iter().enumerate() {
            let p = format!("endpoints.{}.attach[{i}]", e.name);
            let n = t.network_of(&p, a)?;
            let (mut v4, mut v6) = sticky.get(&(e.name.clone(), i)).copied().unwrap_or_default();
            if a.ipv4_dhcp {
                v4 = None; // the lease's, not IPAM's
            }
            if a.ipv6_slaac {
                v6 = None; // the router advertisement's
            }
            if v4.is_none() && !a.ipv4_dhcp && n.subnet_v4().is_some() {
                v4 = next_free(n, false, &taken).map(|ip| match ip {
                    IpAddr::V4(x) => x,
                    IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
                });
                if v4.is_none() {
                    return Err(SpecError::new(
                        format!("{p}.ipv4"),
                        "",
                        format!("cannot be allocated: networks.{} has no free IPv4 address left", n.name),
                    ));
                }
            }
            if v6.is_none() && !a.ipv6_slaac && n.has_ipv6() {
                v6 = next_free(n, true, &taken).map(|ip| match ip {
                    IpAddr::V6(x) => x,
                    IpAddr::V4(_) => Ipv6Addr::UNSPECIFIED,
                });
                if v6.is_none() {
                    return Err(SpecError::new(
                        format!("{p}.ipv6"),
                        "",
                        format!("cannot be allocated: networks.{} has no free IPv6 address left", n.name),
                    ));
                }
            }
            taken.extend(v4.map(IpAddr::V4));
            taken.extend(v6.map(IpAddr::V6));
            let mac = a.mac.unwrap_or_else(|| default_mac(&t.name, &e.name, a.ifname.as_str(), v4));
            out.insert((e.name.clone(), i), Assigned { ipv4: v4, ipv6: v6, mac });
        }
    }
    // Collisions of assigned MACs are an error.
    let mut seen: BTreeMap<MacAddr, String> = BTreeMap::new();
    for ((ep, i), a) in &out {
        let p = format!("endpoints.{ep}.attach[{i}]");
        if let Some(other) = seen.insert(a.mac, p.clone()) {
            return Err(SpecError::new(format!("{p}.mac"), a.mac, format!("is also the MAC of {other}")));
        }
    }
    Ok(out)
}

/// The lowest assignable address of `n`'s pools of a family not in `taken`.
fn next_free(n: &Network, v6: bool, taken: &HashSet<IpAddr>) -> Option<IpAddr> {
    for s in n.subnets.iter().filter(|s| s.subnet.is_ipv6() == v6) {
        let (lo, hi) = pool_bounds(s);
        // At most taken.len() + 3 addresses are skipped before a free one.
        let limit = lo.saturating_add(taken.len() as u128 + 4).min(hi);
        let mut x = lo;
        while x <= limit {
            let ip = to_ip(v6, x);
            if assignable(s, ip) && !taken.contains(&ip) {
                return Some(ip);
            }
            x += 1;
        }
    }
    None
}

/// The MAC policy: `02:42` + the IPv4 address (Docker's scheme), or, with no
/// IPv4, a stable locally administered address hashed from the topology,
/// endpoint and interface names (FNV-1a).
pub fn default_mac(topology: &str, endpoint: &str, ifname: &str, ipv4: Option<Ipv4Addr>) -> MacAddr {
    if let Some(v4) = ipv4 {
        return MacAddr::docker_style(v4);
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in topology.bytes().chain([0]).chain(endpoint.bytes()).chain([0]).chain(ifname.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    // 0x06: locally administered, unicast, distinct from Docker's 02:42.
    MacAddr::new([0x06, b[0], b[1], b[2], b[3], b[4]])
        .unwrap_or_else(|_| MacAddr::docker_style(Ipv4Addr::new(b[0], b[1], b[2], b[3])))
}
