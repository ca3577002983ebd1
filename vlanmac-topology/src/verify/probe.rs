//! Checks 2 to 4 — pings, hop counts and the lab router's neighbour table
//! — sent in waves (`verify/waves.rs`), each wave's probes all at once from
//! one thread (`verify/prober.rs`).

use std::{
    collections::{BTreeMap, BTreeSet},
    net::IpAddr,
    os::fd::OwnedFd,
    time::Duration,
};

use nix::sched::{setns, CloneFlags};

use super::{
    check_plan::{Iface, Source, Target},
    prober::{self, Path, Sockets, Trace},
    report::{Check, CheckKind, Stage},
    waves::{self, Entries},
};
use crate::{
    model::Topology,
    observe::{Handles, Seen},
    places::{Place, Role},
};
use vlanmac_core::{
    netns::{self, NetnsRef},
    readback::Neighbour,
    Error, Result,
};

/// How long a probe waits for its answer (it is sent once more, and
/// waited for three times as long, before it counts as failed).
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_millis(1000);

/// What the probes need to know of the topology and the kernel.
pub(crate) struct Ctx<'a> {
    pub t: &'a Topology,
    pub places: &'a [Place],
    pub seen: &'a [Seen],
    pub handles: &'a Handles,
    pub ifaces: &'a [Iface],
}

/// The checks of every probe of `sources`, then the router's neighbour
/// entries.
pub(crate) async fn run(cx: &Ctx<'_>, sources: &[Source]) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    let mut neighbour_checks = Vec::new();
    let (present, absent): (Vec<&Source>, Vec<&Source>) = sources.iter().partition(|s| cx.seen[s.place].exists);
    for s in &absent {
        for t in &s.targets {
            checks.extend(unsent(s, t));
        }
    }
    let sizes: Vec<usize> = present.iter().map(|s| s.targets.len()).collect();
    let waves = waves::split(&sizes, waves::room());
    let router = cx.places.iter().position(|p| p.role == Role::Router);
    // What each namespace held before, so later waves have room (only
    // needed when there is more than one wave).
    let before: BTreeMap<usize, Entries> = if waves.len() > 1 {
        let places: BTreeSet<usize> = cleanable(cx, present.iter().map(|s| s.place).chain(router));
        let reads =
            places.iter().map(|&p| async move { Ok::<_, Error>((p, waves::entries(cx.handles.get(p)?).await?)) });
        futures::future::try_join_all(reads).await?.into_iter().collect()
    } else {
        BTreeMap::new()
    };
    for (w, wave) in waves.iter().enumerate() {
        let chunks: Vec<(&Source, &[Target])> = wave
            .iter()
            .filter_map(|c| {
                let s = present.get(c.source)?;
                Some((*s, s.targets.get(c.targets.clone())?))
            })
            .collect();
        checks.extend(probe_wave(cx, &chunks).await?);
        let first_chunks = wave.iter().filter(|c| c.targets.start == 0).filter_map(|c| present.get(c.source));
        neighbour_checks.extend(router_entries(cx, router, first_chunks.map(|s| s.place).collect()).await?);
        if w + 1 < waves.len() {
            let touched = cleanable(
                cx,
                chunks
                    .iter()
                    .flat_map(|(s, ts)| std::iter::once(s.place).chain(ts.iter().filter_map(|t| t.place)))
                    .chain(router),
            );
            let forget = touched.iter().filter_map(|p| Some((cx.handles.get(*p).ok()?, before.get(p)?)));
            futures::future::try_join_all(forget.map(|(nl, b)| waves::forget_added(nl, b))).await?;
        }
    }
    // The router's entries for endpoints whose namespace is gone (they
    // can only be there from before).
    neighbour_checks.extend(router_entries(cx, router, absent.iter().map(|s| s.place).collect()).await?);
    checks.extend(neighbour_checks);
    Ok(checks)
}

/// The places among `places` whose neighbour entries verify may delete:
/// the topology's own namespaces that exist, never the caller's.
fn cleanable(cx: &Ctx<'_>, places: impl Iterator<Item = usize>) -> BTreeSet<usize> {
    places.filter(|p| cx.seen[*p].exists && cx.places[*p].nsref != NetnsRef::Current).collect()
}

/// A probe from a namespace that is gone: failed, not sent.
fn unsent(s: &Source, t: &Target) -> Vec<Check> {
    let fail = |kind, expected: String| {
        Check::new(
            kind,
            s.label.clone(),
            t.label.clone(),
            expected,
            "not sent: namespace missing".into(),
            false,
            Stage::Missing,
        )
    };
    let mut out = vec![fail(CheckKind::Ping, "reply".into())];
    if let Some(h) = t.hops {
        out.push(fail(CheckKind::Hops, hops_text(h)));
    }
    out
}

fn hops_text(n: u8) -> String {
    if n == 1 {
        "1 hop".into()
    } else {
        format!("{n} hops")
    }
}

/// Opens every chunk's sockets, each in its source's namespace, on one
/// thread that enters them in turn.
async fn open_sockets(cx: &Ctx<'_>, chunks: &[(&Source, &[Target])]) -> Result<Vec<Sockets>> {
    let mut wants: Vec<(Option<OwnedFd>, bool, bool, String)> = Vec::new();
    for (s, targets) in chunks {
        let fd = match &cx.places[s.place].nsref {
            NetnsRef::Current => None,
            r => Some(r.open()?),
        };
        let v4 = targets.iter().any(|t| t.addr.is_ipv4());
        let v6 = targets.iter().any(|t| t.addr.is_ipv6());
        wants.push((fd, v4, v6, s.label.clone()));
    }
    // The caller's namespace first, before the thread leaves it.
    let order: Vec<usize> = (0..wants.len())
        .filter(|i| wants[*i].0.is_none())
        .chain((0..wants.len()).filter(|i| wants[*i].0.is_some()))
        .collect();
    netns::spawn_blocking(move || {
        let mut out: Vec<Option<Sockets>> = (0..wants.len()).map(|_| None).collect();
        for i in order {
            let (fd, v4, v6, label) = &wants[i];
            if let Some(fd) = fd {
                setns(fd, CloneFlags::CLONE_NEWNET).map_err(|e| {
                    Error::from_errno(format!("probe from {label}: enter its namespace"), e as i32, None, None)
                })?;
            }
            out[i] = Some(Sockets::open(*v4, *v6).map_err(|e| Error::io(format!("open ICMP sockets in {label}"), e))?);
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    })
    .await
}

/// Pings every target of the wave (twice before a failure), traces the
/// ones with a hop count to check, and names the stage of each failure.
async fn probe_wave(cx: &Ctx<'_>, chunks: &[(&Source, &[Target])]) -> Result<Vec<Check>> {
    let mut sockets = open_sockets(cx, chunks).await?;
    let pings: Vec<(usize, IpAddr)> =
        chunks.iter().enumerate().flat_map(|(k, (_, ts))| ts.iter().map(move |t| (k, t.addr))).collect();
    // The lab router's ICMP errors are not rate-limited (its sysctls);
    // any other router's are paced for.
    let pace = cx.t.lab.is_none();
    let traces: Vec<Trace> = chunks
        .iter()
        .enumerate()
        .flat_map(|(k, (_, ts))| {
            ts.iter().filter_map(move |t| {
                let expect = t.hops?;
                Some(Trace { source: k, dst: t.addr, expect, max_ttl: expect + 2, pace })
            })
        })
        .collect();
    let (ok, paths) = netns::spawn_blocking(move || {
        let ok = prober::ping_all(&mut sockets, &pings, PROBE_TIMEOUT);
        // Only targets that answered are traced.
        let reached: Vec<bool> = {
            let answered: BTreeSet<(usize, IpAddr)> =
                pings.iter().zip(&ok).filter(|(_, ok)| **ok).map(|(p, _)| *p).collect();
            traces.iter().map(|t| answered.contains(&(t.source, t.dst))).collect()
        };
        let to_trace: Vec<Trace> = traces.iter().zip(&reached).filter(|(_, r)| **r).map(|(t, _)| *t).collect();
        let mut traced = prober::trace_all(&mut sockets, &to_trace, PROBE_TIMEOUT).into_iter();
        let paths: Vec<Option<Path>> = reached.iter().map(|r| if *r { traced.next() } else { None }).collect();
        Ok((ok, paths))
    })
    .await?;
    // The neighbour tables of the sources with a failed ping, for the stage.
    let mut failed_at = BTreeSet::new();
    let mut i = 0;
    for (k, (_, ts)) in chunks.iter().enumerate() {
        if ok.get(i..i + ts.len()).is_some_and(|o| o.iter().any(|x| !x)) {
            failed_at.insert(k);
        }
        i += ts.len();
    }
    let reads = failed_at.iter().map(|&k| async move {
        let nl = cx.handles.get(chunks[k].0.place)?;
        Ok::<_, Error>((k, nl.neighbours(None).await?))
    });
    let neigh: BTreeMap<usize, Vec<Neighbour>> = futures::future::try_join_all(reads).await?.into_iter().collect();
    let mut checks = Vec::new();
    let (mut ok, mut paths) = (ok.into_iter(), paths.into_iter());
    for (k, (s, ts)) in chunks.iter().enumerate() {
        for t in ts.iter() {
            let reached = ok.next().unwrap_or(false);
            let (observed, stage) = if reached {
                ("reply".to_string(), Stage::NoEchoReply)
            } else {
                ping_failure(t, neigh.get(&k).map(Vec::as_slice).unwrap_or_default())
            };
            checks.push(Check::new(
                CheckKind::Ping,
                s.label.clone(),
                t.label.clone(),
                "reply".into(),
                observed.clone(),
                reached,
                stage,
            ));
            let Some(want) = t.hops else { continue };
            let path = paths.next().flatten();
            let (observed, good, stage) = match path {
                Some(p) => (path_text(&p), p.reached && p.hops.len() == usize::from(want), Stage::WrongHopCount),
                None => (format!("unreached ({observed})"), false, stage),
            };
            checks.push(Check::new(
                CheckKind::Hops,
                s.label.clone(),
                t.label.clone(),
                hops_text(want),
                observed,
                good,
                stage,
            ));
        }
    }
    Ok(checks)
}

/// Why a ping got no answer: the source's neighbour entry for the next hop.
fn ping_failure(t: &Target, neigh: &[Neighbour]) -> (String, Stage) {
    match neigh.iter().find(|n| n.ip == t.next_hop) {
        Some(n) if n.state.is_resolved() => (
            format!("no echo reply ({} at {})", t.next_hop, n.mac.map(|m| m.to_string()).unwrap_or("-".into())),
            Stage::NoEchoReply,
        ),
        Some(n) => (format!("no neighbour entry for {} ({:?})", t.next_hop, n.state), Stage::NoNeighbourEntry),
        None => (format!("no neighbour entry for {}", t.next_hop), Stage::NoNeighbourEntry),
    }
}

fn path_text(p: &Path) -> String {
    let via: Vec<String> = p
        .hops
        .iter()
        .take(p.hops.len().saturating_sub(1))
        .map(|h| h.map(|a| a.to_string()).unwrap_or("*".into()))
        .collect();
    if !p.reached {
        "unreached".to_string()
    } else if via.is_empty() {
        "1 hop".to_string()
    } else {
        format!("{} hops via {}", p.hops.len(), via.join(", "))
    }
}

/// Check 4, the lab router's neighbour table (the seed's `show ip arp`):
/// each IPv4 address of the endpoints in `places`, with its MAC, on the
/// router's interface of its network.
async fn router_entries(cx: &Ctx<'_>, router: Option<usize>, places: Vec<usize>) -> Result<Vec<Check>> {
    let (Some(r), Some(lab)) = (router, &cx.t.lab) else { return Ok(Vec::new()) };
    let expected: Vec<(&Iface, String, IpAddr)> = cx
        .ifaces
        .iter()
        .filter(|i| places.contains(&i.place))
        .filter_map(|i| {
            let n = cx.t.network(&i.network)?;
            n.subnet_v4().and_then(|s| s.gateway())?;
            let dev = if n.vlan.is_some() { n.link_parent().to_string() } else { lab.trunk.to_string() };
            Some(i.addrs.iter().filter(|a| a.is_ipv4()).map(move |a| (i, dev.clone(), *a)))
        })
        .flatten()
        .collect();
    if expected.is_empty() {
        return Ok(Vec::new());
    }
    let read = if cx.seen[r].exists {
        let nl = cx.handles.get(r)?;
        let (neigh, links) = futures::future::try_join(nl.neighbours(None), nl.links()).await?;
        Some((neigh, links.into_iter().map(|l| (l.index, l.name)).collect::<BTreeMap<u32, String>>()))
    } else {
        None
    };
    let label = &cx.places[r].label;
    Ok(expected
        .into_iter()
        .map(|(i, dev, a)| {
            let want = format!("{} on {dev}", i.mac.map(|m| m.to_string()).unwrap_or("-".into()));
            let Some((neigh, dev_of)) = &read else {
                return Check::new(
                    CheckKind::Neighbour,
                    label.clone(),
                    a.to_string(),
                    want,
                    "router namespace missing".into(),
                    false,
                    Stage::Missing,
                );
            };
            match neigh.iter().find(|x| x.ip == a && x.state.is_resolved()) {
                Some(x) => {
                    let seen = format!(
                        "{} on {}",
                        x.mac.map(|m| m.to_string()).unwrap_or("-".into()),
                        dev_of.get(&x.index).cloned().unwrap_or_default()
                    );
                    let ok = i.mac.is_none_or(|_| seen == want);
                    Check::new(CheckKind::Neighbour, label.clone(), a.to_string(), want, seen, ok, Stage::Mismatch)
                }
                None => Check::new(
                    CheckKind::Neighbour,
                    label.clone(),
                    a.to_string(),
                    want,
                    "no neighbour entry".into(),
                    false,
                    Stage::NoNeighbourEntry,
                ),
            }
        })
        .collect())
}
