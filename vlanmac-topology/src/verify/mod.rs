//! `verify`: checks a running topology the way the seed walkthrough does —
//! read-back of every namespace, interface, address and route against the
//! spec; ICMP echo (v4 and v6) from the endpoints; hop counts with
//! TTL-limited probes (1 within a network, 2 across through the router);
//! and the lab router's neighbour table (the seed's `show ip arp`).
//!
//! Which probes go out is the [`CheckPlan`]: linear by default (each
//! endpoint to its gateways and to the next endpoint of each of its
//! networks, one hop probe per pair of networks), the full mesh on request.
//! Probes are sent by the library from inside each source's namespace, all
//! at once up to a bound, in waves that fit the kernel's neighbour table
//! (`verify/waves.rs` says why). Anything missing — a namespace, a link, a
//! container — is a failed check of the report, never an early stop.

mod check_plan;
mod icmp;
mod probe;
mod prober;
mod reach;
mod readback;
mod report;
mod served;
mod waves;

pub use crate::options::CheckPlan;
pub use reach::Probe;
pub use report::{Check, CheckKind, Stage, VerifyReport};

use check_plan::Iface;

use vlanmac_core::Result;

use crate::{desired::Desired, model::Topology, options::Options, places::Place, reading::Observed};

/// Runs every check of `t` against what `observed` read of the kernel (see
/// the module docs; the caller, the engine or [`Topology::verify`], reads
/// it); the probes are those of `opts.check_plan`. Fails only when checking
/// is impossible (no permission, a netlink socket that cannot be opened).
pub(crate) async fn verify(t: &Topology, observed: Observed, opts: &Options) -> Result<VerifyReport> {
    let Observed { places, handles, seen, mut desired } = observed;
    let served = served::checks(t, &places, &seen, &mut desired);
    let ifaces = interfaces(t, &places, &desired);
    let mut checks = readback::checks(&places, &seen, &desired);
    checks.extend(served);
    let sources = check_plan::sources(t, &places, &ifaces, opts.check_plan);
    let cx = probe::Ctx { t, places: &places, seen: &seen, handles: &handles, ifaces: &ifaces };
    checks.extend(probe::run(&cx, &sources).await?);
    Ok(VerifyReport { topology: t.name.clone(), plan: opts.check_plan, checks })
}

/// Interfaces of endpoints, from the desired state (IPAM included).
fn interfaces(t: &Topology, places: &[Place], desired: &Desired) -> Vec<Iface> {
    let mut ifaces: Vec<Iface> = Vec::new();
    for e in &t.endpoints {
        let Some(place) = places.iter().position(|p| p.endpoint() == Some(e.name.as_str())) else {
            continue;
        };
        for (i, a) in e.attach.iter().enumerate() {
            // The attachment's link, by its name there (a runtime may have
            // named it otherwise than the topology).
            let link = desired.links.iter().find(|l| l.place == place && l.attachment == Some(i));
            let ifname = link.map_or(&a.ifname, |l| &l.name);
            let addrs = desired
                .addresses
                .iter()
                .filter(|(p, d, _)| *p == place && d == ifname)
                .map(|(_, _, x)| x.addr())
                .collect();
            let mac = link.and_then(|l| l.mac);
            ifaces.push(Iface {
                place,
                endpoint: e.name.clone(),
                ifname: ifname.to_string(),
                network: a.network.clone(),
                addrs,
                mac,
            });
        }
    }
    ifaces
}
