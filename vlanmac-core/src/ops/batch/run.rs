//! Running a [`super::Batch`]: look-ups of what exists, the waves, and the
//! undo of a change cut half-way.

use std::collections::{HashMap, HashSet};

use netlink_packet_route::{link::LinkMessage, RouteNetlinkMessage as M};

use super::{
    request::{Key, Kind, Micro},
    BatchReport,
};
use crate::{
    error::{Error, KernelError, Result},
    interrupt::Interrupt,
    link::{self, NewLink},
    netlink::{Call, Netlink, Op},
    readback::Link,
    spec::IfName,
};

/// What is known of a link: its index and MTU in its namespace.
#[derive(Debug, Clone, Copy)]
pub(super) struct Known {
    pub(super) index: u32,
    pub(super) mtu: Option<u32>,
}

pub(super) struct Runner {
    pub(super) results: Vec<Option<Result<()>>>,
    pub(super) known: HashMap<Key, Known>,
    interrupt: Option<Interrupt>,
    interrupted: bool,
}

impl Runner {
    /// The index of link `name` in the namespace of `m`'s socket, as far as
    /// the runner knows it (made earlier in the batch, or looked up).
    fn index_of(&self, m: &Micro<'_>, name: &IfName) -> Result<u32> {
        self.known.get(&(m.nl.netns_key(), name.clone())).map(|k| k.index).ok_or_else(|| {
            Error::NotFound(KernelError {
                op: format!("look up link {name} in netns {}", m.nl.netns()),
                errno: libc::ENODEV,
                extack: None,
                hint: None,
            })
        })
    }

    pub(super) fn new(changes: usize, interrupt: Option<Interrupt>) -> Self {
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

    pub(super) async fn run<'a>(mut self, micros: Vec<Micro<'a>>) -> BatchReport {
        // Everything looked up by index that this batch does not create must
        // exist now: one packed GET per namespace for all of them.
        self.resolve(&micros).await;
        self.check_mtus(&micros);
        if self.failed() {
            return self.report();
        }
        let mut progress = Progress::default();
        for m in &micros {
            *progress.total.entry(m.change).or_default() += 1;
        }
        let mut remaining: Vec<Micro<'a>> = micros;
        while !remaining.is_empty() {
            if self.interrupt.as_ref().is_some_and(Interrupt::is_triggered) {
                self.interrupted = true;
                break;
            }
            let (wave, later) = self.split_wave(remaining);
            remaining = later;
            if wave.is_empty() {
                self.fail_unresolvable(&remaining);
                break;
            }
            self.send_wave(wave, &mut progress).await;
            if self.failed() {
                break;
            }
            // Look up the links just made that later requests need by index.
            self.resolve(&remaining).await;
            if self.failed() {
                break;
            }
        }
        self.settle(progress).await;
        self.report()
    }

    /// MTUs above the parent's are refused before anything is sent.
    fn check_mtus(&mut self, micros: &[Micro<'_>]) {
        for m in micros {
            if let Kind::NewLink { spec, .. } = &m.what {
                if let (Some(p), Some(want)) = (spec.kind.parent(), spec.mtu) {
                    let have = self.known.get(&(m.nl.netns_key(), p.clone())).and_then(|k| k.mtu);
                    if let Some(have) = have.filter(|h| want.get() > *h) {
                        self.fail(m.change, mtu_error(spec, p, have));
                    }
                }
            }
        }
    }

    /// No request can go, yet some remain: the first waits on a link
    /// nothing creates, which is named.
    fn fail_unresolvable(&mut self, remaining: &[Micro<'_>]) {
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
    }

    /// Sends one wave, each socket's requests packed in order, and records
    /// what went through.
    async fn send_wave<'a>(&mut self, wave: Vec<Micro<'a>>, progress: &mut Progress<'a>) {
        let mut sockets: Vec<(&'a Netlink, Vec<(Micro<'a>, Call)>)> = Vec::new();
        for m in wave {
            let call = match m.call(|name| self.index_of(&m, name)) {
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
        let runs = sockets.into_iter().map(|(nl, items)| async move {
            let (ms, calls): (Vec<Micro<'a>>, Vec<Call>) = items.into_iter().unzip();
            let out = nl.run(calls).await;
            ms.into_iter().zip(out).collect::<Vec<_>>()
        });
        let mut renamed = Vec::new();
        for (m, res) in futures::future::join_all(runs).await.into_iter().flatten() {
            if let Err(e) = res {
                self.fail(m.change, e);
                continue;
            }
            *progress.ok.entry(m.change).or_default() += 1;
            match &m.what {
                Kind::NewLink { home, .. } => {
                    if let Some(key) = m.target() {
                        progress.made.push((m.change, key, home));
                    }
                }
                Kind::SetLink { dev, update } => {
                    if let Some(new) = &update.name {
                        renamed.push((m.nl.netns_key(), dev.clone(), new.clone()));
                        progress.made.push((m.change, (m.nl.netns_key(), new.clone()), m.nl));
                    }
                }
                Kind::DelLink { dev } => {
                    self.known.remove(&(m.nl.netns_key(), dev.clone()));
                }
                _ => {}
            }
        }
        for (ns, old, new) in renamed {
            if let Some(k) = self.known.remove(&(ns, old)) {
                self.known.insert((ns, new), k);
            }
        }
    }

    /// Changes whose every request went through succeeded; a change cut
    /// half-way has its link removed so nothing half-made stays.
    async fn settle(&mut self, progress: Progress<'_>) {
        let mut undo: Vec<(&Netlink, IfName)> = Vec::new();
        for (change, total) in progress.total {
            let ok = progress.ok.get(&change).copied().unwrap_or(0);
            if ok == total {
                if self.results[change].is_none() {
                    self.results[change] = Some(Ok(()));
                }
            } else if ok > 0 || matches!(self.results[change], Some(Err(_))) {
                for (c, (_, name), home) in &progress.made {
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
    }
}

/// How far each change of a running batch got.
#[derive(Default)]
struct Progress<'a> {
    /// Requests per change.
    total: HashMap<usize, usize>,
    /// Requests per change that went through.
    ok: HashMap<usize, usize>,
    /// Links created: change, link, the handle of its namespace.
    made: Vec<(usize, Key, &'a Netlink)>,
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
