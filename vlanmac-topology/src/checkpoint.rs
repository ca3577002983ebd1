//! Confirmed apply (`vlanmac apply FILE --confirm DURATION`): before an
//! apply changes anything, a checkpoint records how to undo every change
//! its plan makes — what it will create, and the prior value of what it will
//! change (a link's MTU or state, addresses, routes, sysctls, the lab's DHCP
//! server and leases) — with the topology file applied before, if any. It
//! is written atomically to `/run/vlanmac/NAME/checkpoint` (JSON), so any
//! process can roll back from it: the watchdog the CLI leaves behind, a
//! later `vlanmac` command, `vlanmac rollback NAME`. Unless
//! [`confirm`]ed by its deadline, the change is rolled back: each recorded
//! step undone in reverse (namespaces the apply made go whole), then the
//! previous file applied again, which re-creates what the change removed.
//!
//! State changes (pending → confirmed, pending → rolled back) happen under
//! a lock (`/run/vlanmac/NAME.checkpoint.lock`), so a confirm racing the
//! deadline has exactly one winner, and the loser is told which.
//!
//! What it does not cover: Docker networks and connections (a topology with
//! Docker parts is refused), and changes made after the checkpoint by
//! something other than this apply.

use std::time::Duration;

use serde::Serialize;

use vlanmac_core::{
    link::LinkUpdate,
    spec::{AddressSpec, IfName, MacAddr, Mtu},
    Error, Netlink, Result,
};

pub use crate::checkpoint_file::*;
use crate::{
    checkpoint_file::{corrupt, lock_path},
    desired::DesiredLease,
    dhcp::unix_now,
    lab_server::{state_dir, LabServer},
    leases,
    model::DhcpUse,
    observe::Handles,
    places::Place,
    rollback::{Journal, Undo},
};

/// Starts `topology`'s confirm clock now (the apply is done): its deadline
/// is `timeout` from now. Returns the deadline.
pub async fn start_clock(topology: &str, timeout: Duration) -> Result<u64> {
    let _lock = vlanmac_core::lockfile::lock_path(lock_path(topology)).await?;
    let mut c = load(topology).ok_or_else(|| corrupt(format!("no checkpoint for {topology}")))?;
    c.deadline = unix_now() + timeout.as_secs().max(1);
    save(&c)?;
    Ok(c.deadline)
}

/// Records `pid` as the watchdog of `topology`'s checkpoint.
pub async fn set_watchdog(topology: &str, pid: u32) -> Result<()> {
    let _lock = vlanmac_core::lockfile::lock_path(lock_path(topology)).await?;
    let mut c = load(topology).ok_or_else(|| corrupt(format!("no checkpoint for {topology}")))?;
    c.watchdog = Some(pid);
    save(&c)
}

/// Marks a checkpoint whose apply failed (and rolled itself back) settled.
pub(crate) async fn failed_apply(topology: &str, e: &Error) -> Result<()> {
    let _lock = vlanmac_core::lockfile::lock_path(lock_path(topology)).await?;
    if let Some(mut c) = load(topology).filter(|c| c.state == State::Pending) {
        c.state = State::RolledBack { reason: format!("the apply failed: {e}"), failed: Vec::new() };
        save(&c)?;
    }
    Ok(())
}

/// What [`rollback`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rollback {
    /// The topology.
    pub topology: String,
    /// Undo steps that failed (empty: back as the checkpoint recorded).
    pub failed: Vec<String>,
    /// Whether the previous topology file was applied again.
    pub previous_applied: bool,
}

/// How a state change under the checkpoint's lock came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// This call confirmed it.
    Confirmed,
    /// This call rolled it back.
    RolledBack(Rollback),
    /// Another party settled it first (confirmed or rolled back), or it
    /// was never there: what the checkpoint says now.
    AlreadySettled(Option<State>),
}

/// Confirms `topology`'s pending change, if its deadline has not passed
/// (then the deadline wins: the change is rolled back here). `by` says who.
pub async fn confirm(topology: &str, by: &str) -> Result<Outcome> {
    let _lock = vlanmac_core::lockfile::lock_path(lock_path(topology)).await?;
    let Some(mut c) = load(topology).filter(|c| c.state == State::Pending) else {
        return Ok(Outcome::AlreadySettled(load(topology).map(|c| c.state)));
    };
    if unix_now() >= c.deadline {
        return Ok(Outcome::RolledBack(settle_rollback(c, "not confirmed by the deadline").await?));
    }
    c.state = State::Confirmed { by: by.to_string() };
    save(&c)?;
    Ok(Outcome::Confirmed)
}

/// Rolls `topology`'s pending change back now, for `reason`.
pub async fn rollback(topology: &str, reason: &str) -> Result<Outcome> {
    let _lock = vlanmac_core::lockfile::lock_path(lock_path(topology)).await?;
    match load(topology).filter(|c| c.state == State::Pending) {
        Some(c) => Ok(Outcome::RolledBack(settle_rollback(c, reason).await?)),
        None => Ok(Outcome::AlreadySettled(load(topology).map(|c| c.state))),
    }
}

/// Rolls back `topology`'s pending change if its deadline has passed.
pub async fn rollback_if_expired(topology: &str, reason: &str) -> Result<Outcome> {
    let _lock = vlanmac_core::lockfile::lock_path(lock_path(topology)).await?;
    match load(topology).filter(|c| c.state == State::Pending && unix_now() >= c.deadline) {
        Some(c) => Ok(Outcome::RolledBack(settle_rollback(c, reason).await?)),
        None => Ok(Outcome::AlreadySettled(load(topology).map(|c| c.state))),
    }
}

/// The topologies with a pending change whose deadline has passed.
pub fn expired() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(vlanmac_core::lockfile::LOCK_DIR) else { return Vec::new() };
    let now = unix_now();
    dir.flatten()
        .filter_map(|e| {
            let text = std::fs::read(e.path().join("checkpoint")).ok()?;
            let c: Checkpoint = serde_json::from_slice(&text).ok()?;
            (c.state == State::Pending && now >= c.deadline).then_some(c.topology)
        })
        .collect()
}

/// Waits until `topology`'s deadline and rolls it back unless it was
/// settled meanwhile (the watchdog's loop; it looks every 200 ms, so a
/// deadline moved later by the apply is followed).
pub async fn watch(topology: &str) -> Result<Outcome> {
    loop {
        let Some(c) = load(topology).filter(|c| c.state == State::Pending) else {
            return Ok(Outcome::AlreadySettled(load(topology).map(|c| c.state)));
        };
        if unix_now() >= c.deadline {
            return rollback_if_expired(topology, "not confirmed by the deadline").await;
        }
        vlanmac_core::netns::spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(200));
            Ok(())
        })
        .await?;
    }
}

/// Undoes `c`'s steps and applies its previous file again; records the
/// outcome. Called with the checkpoint's lock held.
async fn settle_rollback(mut c: Checkpoint, reason: &str) -> Result<Rollback> {
    let mut failed = undo(&c).await;
    let mut previous_applied = false;
    if let Some(prev) = &c.previous {
        match prev.topology() {
            Ok(t) => match crate::apply::apply(&t, &crate::Options::default()).await {
                Ok(_) => {
                    previous_applied = true;
                    let _ = remember(&c.topology, prev);
                    failed.extend(restore_macs(&c).await);
                }
                Err(e) => failed.push(format!("apply the previous file {}: {e}", prev.name)),
            },
            Err(e) => failed.push(format!("read the previous file {}: {e}", prev.name)),
        }
    } else {
        let _ = std::fs::remove_file(state_dir(&c.topology).join("applied.json"));
    }
    c.state = State::RolledBack { reason: reason.to_string(), failed: failed.clone() };
    save(&c)?;
    Ok(Rollback { topology: c.topology.clone(), failed, previous_applied })
}

/// Gives the links the change deleted and the previous file made again
/// their MAC back (`ip link set DEV address MAC`); the steps that failed. A
/// link the previous file does not make is not there: nothing to do.
async fn restore_macs(c: &Checkpoint) -> Vec<String> {
    let mut failed = Vec::new();
    // One socket a namespace, opened when first needed.
    let mut open: Vec<(&Ns, Netlink)> = Vec::new();
    for step in &c.steps {
        let Step::RestoreMac { ns, dev, mac } = step else { continue };
        let mut restore = async || {
            let (dev, mac) = (IfName::new(dev.as_str())?, mac.parse::<MacAddr>()?);
            let at = match open.iter().position(|(n, _)| *n == ns) {
                Some(i) => i,
                None => {
                    open.push((ns, Netlink::open(ns.place()?.nsref).await?));
                    open.len() - 1
                }
            };
            let nl = &open[at].1;
            match nl.link(&dev).await {
                Ok(l) if l.mac != Some(mac) => nl.set_link(&dev, &LinkUpdate::new().mac(mac)).await,
                Ok(_) | Err(Error::NotFound(_)) => Ok(()),
                Err(e) => Err(e),
            }
        };
        if let Err(e) = restore().await {
            failed.push(format!("give {dev} its MAC {mac} back: {e}"));
        }
    }
    failed
}

/// Undoes `c`'s steps in reverse; the steps that failed. A step whose
/// change never happened (the apply stopped before it) undoes nothing.
async fn undo(c: &Checkpoint) -> Vec<String> {
    let mut places: Vec<Place> = Vec::new();
    let mut index: Vec<Ns> = Vec::new();
    let mut failed = Vec::new();
    let mut place_of = |ns: &Ns, failed: &mut Vec<String>| -> Option<usize> {
        if let Some(i) = index.iter().position(|n| n == ns) {
            return Some(i);
        }
        match ns.place() {
            Ok(p) => {
                places.push(p);
                index.push(ns.clone());
                Some(places.len() - 1)
            }
            Err(e) => {
                failed.push(e.to_string());
                None
            }
        }
    };
    let mut journal = Journal::default();
    for step in &c.steps {
        match to_undo(step, &c.topology, &mut place_of, &mut failed) {
            Ok(Some(u)) => journal.push(u),
            Ok(None) => {}
            Err(e) => failed.push(format!("{step:?}: {e}")),
        }
    }
    let mut handles = Handles::new(&places, Default::default());
    failed.extend(journal.rollback(&mut handles, &places).await);
    failed
}

/// The rollback step of `step`.
fn to_undo(
    step: &Step,
    topology: &str,
    place_of: &mut impl FnMut(&Ns, &mut Vec<String>) -> Option<usize>,
    failed: &mut Vec<String>,
) -> Result<Option<Undo>> {
    let mut at = |ns: &Ns| place_of(ns, failed);
    let addr = |a: &str| -> Result<AddressSpec> {
        let net = a.parse().map_err(|_| corrupt(format!("address {a}")))?;
        Ok(AddressSpec { net, nodad: true, lifetimes: None })
    };
    Ok(match step {
        Step::DeleteNetns { netns } => at(&Ns::Named(netns.clone())).map(|place| Undo::Netns { place }),
        Step::DeleteLink { ns, dev } => {
            let dev = IfName::new(dev.as_str())?;
            at(ns).map(|place| Undo::Link { place, dev })
        }
        Step::SetLink { ns, dev, up, mtu, mac, alias, ipv6_addrgen } => {
            let mut update = LinkUpdate::new();
            update.up = *up;
            update.mtu = mtu.map(Mtu::new).transpose()?;
            update.mac =
                mac.as_deref().map(str::parse::<MacAddr>).transpose().map_err(|_| corrupt(format!("MAC {mac:?}")))?;
            update.alias = alias.clone();
            update.ipv6_addrgen = *ipv6_addrgen;
            let dev = IfName::new(dev.as_str())?;
            at(ns).map(|place| Undo::SetLink { place, dev, update })
        }
        Step::DeleteAddress { ns, dev, address } => {
            let (dev, addr) = (IfName::new(dev.as_str())?, addr(address)?);
            at(ns).map(|place| Undo::DelAddress { place, dev, addr })
        }
        Step::AddAddress { ns, dev, address } => {
            let (dev, addr) = (IfName::new(dev.as_str())?, addr(address)?);
            at(ns).map(|place| Undo::AddAddress { place, dev, addr })
        }
        Step::DeleteRoute { ns, route } => {
            let route = route.spec()?;
            at(ns).map(|place| Undo::DelRoute { place, route })
        }
        Step::ReplaceRoute { ns, route } => {
            let route = route.spec()?;
            at(ns).map(|place| Undo::ReplaceRoute { place, route })
        }
        Step::Sysctl { ns, key, old } => at(ns).map(|place| Undo::Sysctl { place, key: key.clone(), old: old.clone() }),
        // After the previous file is applied: [`restore_macs`].
        Step::RestoreMac { .. } => None,
        Step::StopLabServer => Some(Undo::LabServer { server: LabServer::of_name(topology) }),
        Step::ReleaseLease { ns, endpoint, dev } => {
            let Some(lease) = leases::load(topology, endpoint, dev) else { return Ok(None) };
            let resolv = match ns {
                Ns::Named(n) => Some((crate::desired::resolv_conf(n), DhcpUse { dns: true, domain: true, mtu: false })),
                _ => None,
            };
            let dev = IfName::new(dev.as_str())?;
            at(ns).map(|place| Undo::Lease {
                topology: topology.to_string(),
                wanted: DesiredLease {
                    place,
                    dev,
                    endpoint: endpoint.clone(),
                    network: String::new(),
                    mac: lease.mac,
                    default_route: lease.router.is_some(),
                    use_mtu: false,
                    resolv,
                },
                lease,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_round_trips_through_json() {
        let c = Checkpoint {
            topology: "t".into(),
            created: 1,
            deadline: 2,
            state: State::Pending,
            watchdog: Some(7),
            previous: Some(StoredFile { name: "v1.yaml".into(), text: "name: t\n".into() }),
            steps: vec![
                Step::DeleteNetns { netns: "a".into() },
                Step::SetLink {
                    ns: Ns::Current,
                    dev: "eth0".into(),
                    up: Some(false),
                    mtu: Some(1500),
                    mac: None,
                    alias: None,
                    ipv6_addrgen: None,
                },
                Step::ReplaceRoute {
                    ns: Ns::Pid(4),
                    route: RouteRecord {
                        dst: "0.0.0.0/0".into(),
                        gateway: Some("10.0.0.1".parse().unwrap()),
                        dev: Some("eth0".into()),
                        metric: None,
                        table: None,
                        onlink: false,
                    },
                },
                Step::StopLabServer,
            ],
        };
        let text = serde_json::to_string(&c).unwrap();
        assert!(text.contains(r#""undo":"delete_netns""#), "{text}");
        assert_eq!(serde_json::from_str::<Checkpoint>(&text).unwrap(), c);
    }

    #[test]
    fn corrupt_steps_are_errors_not_panics() {
        let mut failed = Vec::new();
        let mut at = |_: &Ns, _: &mut Vec<String>| Some(0usize);
        let bad = [
            Step::AddAddress { ns: Ns::Current, dev: "eth0".into(), address: "nonsense".into() },
            Step::SetLink {
                ns: Ns::Current,
                dev: "eth0".into(),
                up: None,
                mtu: Some(1),
                mac: None,
                alias: None,
                ipv6_addrgen: None,
            },
            Step::DeleteRoute {
                ns: Ns::Current,
                route: RouteRecord {
                    dst: "x".into(),
                    gateway: None,
                    dev: None,
                    metric: None,
                    table: None,
                    onlink: false,
                },
            },
            Step::DeleteAddress { ns: Ns::Current, dev: "a/b".into(), address: "10.0.0.1/24".into() },
        ];
        for s in &bad {
            assert!(to_undo(s, "t", &mut at, &mut failed).is_err(), "{s:?}");
        }
    }
}
