//! [`Agent`]: keeps topologies true after they are applied — `vlanmac
//! agent`, as a library.
//!
//! It applies each topology file of its paths through the [`Engine`] (the
//! same plan and apply as `vlanmac apply`), then waits for what could undo
//! them: the kernel's notifications from each namespace a topology makes or
//! hangs its links off (links, addresses, routes), namespaces appearing and
//! disappearing under `/run/netns`, the container runtime's events for the
//! containers a topology names, and changes to the files. A notification
//! that concerns a topology schedules one apply of that topology; a burst
//! of them (a parent deleted under many links) makes one repair, once it
//! has settled. Every `resync` it looks at everything anyway, and when the
//! kernel says it dropped notifications (ENOBUFS) it looks at once.
//!
//! Only what carries a topology's marks is changed (apply's rules): a
//! foreign object in the way is reported, not removed. A topology whose
//! repairs keep being undone (someone else keeps changing it back) is
//! backed off, doubling up to a bound, and reported as flapping. Files:
//! added are applied, changed are applied again, removed are taken down;
//! a file that stops being valid keeps its last good version running and
//! its error reported. The agent never tears anything down when it stops.
//!
//! ```no_run
//! # async fn f() -> vlanmac_topology::Result<()> {
//! use vlanmac_topology::{agent::{Agent, AgentOptions, Control}, NoRuntime};
//!
//! let agent = Agent::new(AgentOptions::new(vec!["/etc/vlanmac/topologies".into()]), || NoRuntime);
//! let status = agent.status(); // updated as it runs
//! let (control, rx) = tokio::sync::mpsc::unbounded_channel();
//! let (events, mut seen) = tokio::sync::mpsc::unbounded_channel();
//! tokio::spawn(async move {
//!     while let Some(e) = seen.recv().await {
//!         println!("{e:?}");
//!     }
//! });
//! # drop(control);
//! agent.run(rx, events).await?; // until Control::Stop, or the sender is dropped
//! # let _ = status; Ok(()) }
//! ```

mod files;
mod flap;
mod interest;
mod sources;
mod status;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use vlanmac_core::{
    netlink::monitor::{Monitor, Notification},
    netns::NetnsRef,
    Netlink,
};

pub use status::{Metrics, Repair, State, Status, TopologyStatus};

use crate::{error::Result, runtime::ContainerRuntime, Engine, Options};
use files::Loaded;
use flap::Flap;
use interest::Interest;
use sources::{Input, Task};

/// How the agent runs.
#[derive(Clone, Debug)]
pub struct AgentOptions {
    /// Topology files (`.yaml`, `.yml`, `.json`), or folders of them.
    pub paths: Vec<PathBuf>,
    /// How often every topology is looked at even without a notification
    /// (what notifications can miss). Default: 5 minutes.
    pub resync: Duration,
    /// A burst of notifications is repaired once it has been quiet this
    /// long (and at the latest ten times this after it began). Default:
    /// 50 ms.
    pub settle: Duration,
    /// A change repaired again within this long after its last repair
    /// continues a streak; the third repair in a row of one change is
    /// flapping. Default: 10 s.
    pub flap_window: Duration,
    /// The longest a flapping (or failing) topology is left alone.
    /// Default: 60 s.
    pub max_backoff: Duration,
    /// The receive buffer of each namespace's monitor, in bytes; `None`:
    /// [`Monitor::open`]'s 8 MiB. A burst beyond it is lost and makes a
    /// full resync.
    pub monitor_buffer: Option<usize>,
    /// The options of every apply (its test hooks: counters, faults).
    pub apply: Options,
}

impl AgentOptions {
    /// The defaults, watching `paths`.
    pub fn new(paths: Vec<PathBuf>) -> AgentOptions {
        AgentOptions {
            paths,
            resync: Duration::from_secs(300),
            settle: Duration::from_millis(50),
            flap_window: Duration::from_secs(10),
            max_backoff: Duration::from_secs(60),
            monitor_buffer: None,
            apply: Options::default(),
        }
    }
}

/// What the agent reports as it goes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AgentEvent {
    /// Every topology was applied once: the agent is up.
    Started {
        /// How many topologies it keeps.
        topologies: usize,
    },
    /// An apply changed something.
    Repaired {
        /// The topology.
        topology: String,
        /// What it did, and why.
        repair: Repair,
    },
    /// An apply failed; it is tried again after a backoff.
    Failed {
        /// The topology.
        topology: String,
        /// Why.
        error: String,
    },
    /// A topology's repairs keep being undone: it is backed off.
    Flapping {
        /// The topology.
        topology: String,
        /// For how long.
        backoff: Duration,
    },
    /// A file was refused (a last good version of it keeps running).
    FileRefused {
        /// The file.
        file: String,
        /// Why, naming the field.
        error: String,
    },
    /// A topology's file went: the topology was taken down.
    Removed {
        /// The topology.
        topology: String,
    },
    /// A DHCP lease was renewed, rebound or acquired again (or the attempt
    /// failed and is tried again later).
    Leased {
        /// The topology.
        topology: String,
        /// What happened to which lease.
        renewal: crate::leases::Renewal,
    },
    /// The sweep collected something (attachments whose namespace is gone).
    Collected {
        /// What, one line each.
        what: Vec<String>,
    },
}

/// What the agent can be told while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Control {
    /// Read every file again (SIGHUP).
    Reload,
    /// Stop after the repair in progress, if any, leaving everything as it
    /// is (SIGTERM).
    Stop,
}

/// Extra work done at start, when a named namespace disappears and at every resync:
/// vlanmac-cni's collection of attachments whose namespace is gone. Returns
/// what it collected, one line each.
pub type Sweep = Box<dyn FnMut() -> Vec<String> + Send>;

/// Keeps topologies true; see the module documentation.
pub struct Agent<R: ContainerRuntime, F: Fn() -> R> {
    opts: AgentOptions,
    runtime: F,
    status: Arc<Mutex<Status>>,
    metrics: Arc<Metrics>,
    sweep: Option<Sweep>,
    /// The agent's input channel, while it runs.
    tx: Option<UnboundedSender<Input>>,
}

/// One topology file the agent keeps.
struct Kept<R: ContainerRuntime> {
    /// Its last good version.
    engine: Engine<R>,
    interest: Interest,
    flap: Flap,
    /// Failed applies in a row.
    failures: u32,
    /// When to look next, and since when a burst has been coming.
    due: Option<Instant>,
    burst: Option<Instant>,
    cause: String,
    /// The next apply is of a new version (the first, a file changed):
    /// what it changes is no drift.
    fresh: bool,
    status: TopologyStatus,
    /// The task following the runtime's events, once it is reachable.
    runtime_events: Option<Task>,
    /// Why its file's current version was refused (the last good version
    /// runs meanwhile); reported until the file is valid again, whatever
    /// the applies of the last good version do.
    refused: Option<String>,
    /// When its DHCP leases next need renewing, or its lab server a look.
    lease_due: Option<Instant>,
}

impl<R: ContainerRuntime> Kept<R> {
    /// The status's error after an apply that went well: the file's
    /// refusal, if any.
    fn settled(&mut self) {
        self.status.error = self.refused.clone();
    }
}

/// A namespace's monitor and the names of its links, by index (to tell
/// which link an address or route notification is about).
struct Watch {
    _task: Task,
    names: HashMap<u32, String>,
}

impl<R: ContainerRuntime + 'static, F: Fn() -> R> Agent<R, F> {
    /// An agent over `opts.paths`, each topology's engine with the runtime
    /// `runtime` makes.
    pub fn new(opts: AgentOptions, runtime: F) -> Self {
        let status = Status { pid: std::process::id(), started_at: status::now_secs(), ..Status::default() };
        Agent {
            opts,
            runtime,
            status: Arc::new(Mutex::new(status)),
            metrics: Arc::new(Metrics::default()),
            sweep: None,
            tx: None,
        }
    }

    /// Runs `sweep` at start, whenever a named namespace disappears and at
    /// every resync.
    pub fn with_sweep(mut self, sweep: Sweep) -> Self {
        self.sweep = Some(sweep);
        self
    }

    /// The agent's status, updated as it runs.
    pub fn status(&self) -> Arc<Mutex<Status>> {
        self.status.clone()
    }

    /// The agent's metrics, updated as it runs.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Applies every topology, then keeps them true until [`Control::Stop`]
    /// comes on `control` (or its sender is dropped); what happens goes to
    /// `events`. Needs a tokio runtime with I/O and timers enabled.
    pub async fn run(
        mut self,
        mut control: UnboundedReceiver<Control>,
        events: UnboundedSender<AgentEvent>,
    ) -> Result<()> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Input>();
        self.tx = Some(tx.clone());
        let _files = sources::watch_files(&self.opts.paths, tx.clone())
            .map_err(|e| vlanmac_core::Error::io("watch the topology files and /run/netns", e))?;
        let mut kept: BTreeMap<PathBuf, Kept<R>> = BTreeMap::new();
        let mut watches: HashMap<NetnsRef, Watch> = HashMap::new();
        self.reload(&mut kept, &events).await;
        for k in kept.values_mut() {
            k.due = Some(Instant::now());
            k.cause = "start".into();
        }
        self.converge_due(&mut kept, &events).await;
        self.watch_namespaces(&kept, &mut watches, &tx).await;
        // What went while no agent ran (a reboot, a crash).
        self.run_sweep(&events);
        let _ = events.send(AgentEvent::Started { topologies: kept.len() });
        let mut next_resync = Instant::now() + self.opts.resync;
        loop {
            let next_due = kept.values().flat_map(|k| k.due.into_iter().chain(k.lease_due)).min();
            let wake = next_due.map_or(next_resync, |d| d.min(next_resync));
            let input = tokio::select! {
                c = control.recv() => Input::Control(c.unwrap_or(Control::Stop)),
                i = rx.recv() => match i { Some(i) => i, None => continue },
                () = tokio::time::sleep_until(wake.into()) => {
                    if Instant::now() >= next_resync {
                        next_resync = Instant::now() + self.opts.resync;
                        self.resync(&mut kept, &events);
                        // What notifications can miss: a monitor that ended.
                        self.watch_namespaces(&kept, &mut watches, &tx).await;
                    }
                    self.leases_due(&mut kept, &events).await;
                    self.converge_due(&mut kept, &events).await;
                    self.watch_namespaces(&kept, &mut watches, &tx).await;
                    continue;
                }
            };
            match input {
                Input::Control(Control::Stop) => break,
                Input::Control(Control::Reload) | Input::Files => {
                    self.reload(&mut kept, &events).await;
                    self.watch_namespaces(&kept, &mut watches, &tx).await;
                }
                Input::Notified { ns, notes } if notes.contains(&Notification::Lost) => {
                    // The kernel dropped notifications: anything may have
                    // changed, everywhere. The monitor is opened again
                    // (with its link names read again) after the repairs.
                    tracing::warn!(target: "vlanmac::agent", "notifications of netns {ns} lost (ENOBUFS): resync");
                    watches.remove(&ns);
                    self.schedule_in(&mut kept, |_| true, &format!("notifications lost in netns {ns}: resync"));
                }
                Input::Notified { ns, notes } => self.notified(&mut kept, &mut watches, &ns, &notes),
                Input::MonitorEnded { ns } => {
                    watches.remove(&ns);
                    self.schedule_in(
                        &mut kept,
                        |i| i.namespaces.iter().any(|n| n.nsref == ns),
                        &format!("netns {ns} gone"),
                    );
                }
                Input::Netns { name, gone } => {
                    let name = name.to_string_lossy().to_string();
                    if gone {
                        // A socket in it would keep the namespace (and the
                        // MACs of its macvlans) alive: let it go at once.
                        watches.retain(|ns, _| !matches!(ns, NetnsRef::Named(n) if n.as_str() == name));
                        self.run_sweep(&events);
                    }
                    let what = format!("netns {name} {}", if gone { "deleted" } else { "appeared" });
                    self.schedule_in(&mut kept, |i| i.netns_names.iter().any(|n| n.as_str() == name), &what);
                }
                Input::RuntimeEnded => {
                    let what = "the runtime's events ended: a look, and its events followed again";
                    self.schedule_in(&mut kept, |i| !i.containers.is_empty() || !i.runtime_networks.is_empty(), what);
                }
                Input::Runtime { name } => {
                    let what = format!("container or network {name}: the runtime changed it");
                    self.schedule_in(
                        &mut kept,
                        |i| i.containers.contains(&name) || i.runtime_networks.contains(&name),
                        &what,
                    );
                }
            }
        }
        Ok(())
    }

    /// Schedules every topology whose interest matches.
    fn schedule_in(&self, kept: &mut BTreeMap<PathBuf, Kept<R>>, matches: impl Fn(&Interest) -> bool, cause: &str) {
        for k in kept.values_mut().filter(|k| matches(&k.interest)) {
            self.schedule(k, cause);
        }
    }

    /// `k` is to be looked at because of a drift: once the burst it is
    /// part of has settled, and not before its backoff.
    fn schedule(&self, k: &mut Kept<R>, cause: &str) {
        self.look(k, cause);
        k.status.drift_events += 1;
        self.metrics.drift(&k.status.name);
        if k.status.state == State::Converged {
            k.status.state = State::Repairing;
        }
        self.publish(k);
    }

    /// `k` is to be looked at (a drift, a file's new version): once the
    /// burst it is part of has settled, and not before its backoff.
    fn look(&self, k: &mut Kept<R>, cause: &str) {
        let now = Instant::now();
        let burst = *k.burst.get_or_insert(now);
        let settled = (now + self.opts.settle).min(burst + self.opts.settle * 10);
        let allowed = k.flap.not_before().into_iter().chain(backoff_until(k, &self.opts)).max().unwrap_or(now);
        k.due = Some(settled.max(allowed));
        if k.cause.is_empty() {
            k.cause = cause.to_string();
        }
    }

    /// Notifications from `ns`: the topologies they concern are scheduled.
    fn notified(
        &self,
        kept: &mut BTreeMap<PathBuf, Kept<R>>,
        watches: &mut HashMap<NetnsRef, Watch>,
        ns: &NetnsRef,
        notes: &[Notification],
    ) {
        let Some(w) = watches.get_mut(ns) else { return };
        for k in kept.values_mut() {
            let Some(i) = k.interest.namespaces.iter().find(|i| &i.nsref == ns) else { continue };
            let hit = notes.iter().find_map(|n| {
                let name = match n {
                    Notification::Lost => return Some(format!("notifications lost in netns {ns}: resync")),
                    Notification::Link { index, name, .. } => name.clone().or_else(|| w.names.get(index).cloned()),
                    Notification::Address { index, .. } => w.names.get(index).cloned(),
                    Notification::Route { oif: Some(index), .. } => w.names.get(index).cloned(),
                    Notification::Route { oif: None, .. } => None,
                };
                let concerns = i.whole || name.as_ref().is_some_and(|n| i.names.contains(n));
                concerns.then(|| describe(n, name.as_deref(), ns))
            });
            if let Some(cause) = hit {
                self.schedule(k, &cause);
            }
        }
        for n in notes {
            if let Notification::Link { index, name, removed } = n {
                match (removed, name) {
                    (true, _) => {
                        w.names.remove(index);
                    }
                    (false, Some(name)) => {
                        w.names.insert(*index, name.clone());
                    }
                    (false, None) => {}
                }
            }
        }
    }

    /// Every topology is looked at; the sweep runs.
    fn resync(&mut self, kept: &mut BTreeMap<PathBuf, Kept<R>>, events: &UnboundedSender<AgentEvent>) {
        let now = Instant::now();
        for k in kept.values_mut() {
            if k.due.is_none() {
                k.due = Some(now.max(backoff_until(k, &self.opts).unwrap_or(now)));
                k.cause = "resync".into();
            }
        }
        self.run_sweep(events);
    }

    fn run_sweep(&mut self, events: &UnboundedSender<AgentEvent>) {
        let Some(sweep) = self.sweep.as_mut() else { return };
        let what = sweep();
        if what.is_empty() {
            return;
        }
        for w in &what {
            tracing::info!(target: "vlanmac::agent", "collected {w}");
        }
        self.metrics.cni_collected(what.len() as u64);
        if let Ok(mut s) = self.status.lock() {
            s.cni_collected += what.len() as u64;
        }
        let _ = events.send(AgentEvent::Collected { what });
    }

    /// Applies every topology that is due.
    async fn converge_due(&self, kept: &mut BTreeMap<PathBuf, Kept<R>>, events: &UnboundedSender<AgentEvent>) {
        let now = Instant::now();
        for k in kept.values_mut().filter(|k| k.due.is_some_and(|d| d <= now)) {
            self.converge(k, events).await;
        }
    }

    /// One apply of `k`: a repair if it changed something.
    async fn converge(&self, k: &mut Kept<R>, events: &UnboundedSender<AgentEvent>) {
        let cause = std::mem::take(&mut k.cause);
        k.due = None;
        k.burst = None;
        let name = k.status.name.clone();
        let start = Instant::now();
        if k.engine.topology().runtime_needs().is_some() && k.runtime_events.as_ref().is_none_or(Task::ended) {
            // The runtime's events for its containers and networks, once
            // it is reachable (again).
            if k.engine.runtime().start().await.is_ok() {
                let containers = k.interest.containers.iter().cloned().collect();
                let networks = k.interest.runtime_networks.iter().cloned().collect();
                let events = k.engine.runtime().events(containers, networks);
                k.runtime_events = Some(sources::watch_runtime(events, self.tx()));
            }
        }
        match k.engine.apply(&self.opts.apply).await {
            Ok(res) if res.changed => {
                let took = start.elapsed();
                k.failures = 0;
                if std::mem::take(&mut k.fresh) {
                    k.flap.applied();
                } else {
                    k.flap.repaired(Instant::now(), res.changes.iter().map(|c| c.to_string()).collect());
                }
                let repair = Repair {
                    changes: res.changes.iter().map(|c| c.to_string()).collect(),
                    cause: if cause.is_empty() { "start".into() } else { cause.clone() },
                    at: status::now_secs(),
                    took_ms: took.as_millis() as u64,
                };
                for c in &res.changes {
                    tracing::info!(target: "vlanmac::agent", topology = %name, cause = %repair.cause, "repaired: {c}");
                }
                self.metrics.repaired(&name, &res.changes, took);
                k.status.repairs += 1;
                k.status.last_repair = Some(repair.clone());
                k.settled();
                let _ = events.send(AgentEvent::Repaired { topology: name.clone(), repair });
                if k.flap.flapping() {
                    tracing::warn!(target: "vlanmac::agent", topology = %name, backoff_s = k.flap.backoff().as_secs(), "flapping: its repairs keep being undone");
                    let _ = events.send(AgentEvent::Flapping { topology: name.clone(), backoff: k.flap.backoff() });
                    // A look once the window is over: calm again if
                    // nothing came back.
                    k.due = Some(Instant::now() + k.flap.backoff() + self.opts.flap_window);
                    k.cause = "flapping: a look after the backoff".into();
                }
            }
            Ok(_) => {
                k.failures = 0;
                k.fresh = false;
                k.flap.converged(Instant::now());
                k.settled();
            }
            Err(e) => {
                k.failures += 1;
                let error = e.to_string();
                tracing::warn!(target: "vlanmac::agent", topology = %name, cause = %cause, "apply failed: {error}");
                k.status.error = Some(match &k.refused {
                    Some(r) => format!("{error}; {r}"),
                    None => error.clone(),
                });
                let _ = events.send(AgentEvent::Failed { topology: name.clone(), error });
                // Tried again after a backoff (a foreign object in the way
                // stays until someone removes it).
                k.due = backoff_until(k, &self.opts);
                k.cause = "retry".into();
            }
        }
        k.status.state = if k.failures > 0 {
            State::Failed
        } else if k.flap.flapping() {
            State::Flapping
        } else {
            State::Converged
        };
        k.status.backoff_s = k.flap.backoff().as_secs();
        self.metrics.set_converged(&name, k.status.state == State::Converged);
        k.lease_due = lease_due_of(k.engine.topology(), None);
        self.publish(k);
    }

    /// Renews the DHCP leases whose timers are due, and schedules a repair
    /// of a topology whose lab DHCP server stopped.
    async fn leases_due(&self, kept: &mut BTreeMap<PathBuf, Kept<R>>, events: &UnboundedSender<AgentEvent>) {
        let now = Instant::now();
        for k in kept.values_mut().filter(|k| k.lease_due.is_some_and(|d| d <= now)) {
            let t = k.engine.topology();
            let name = t.name.clone();
            if crate::lab_server::LabServer::of(t).is_some_and(|s| s.running().is_none()) {
                self.schedule(k, "the lab DHCP server (dnsmasq) is not running");
            }
            let next = match k.engine.renew_leases(&self.opts.apply).await {
                Ok((renewals, next)) => {
                    for r in renewals {
                        tracing::info!(target: "vlanmac::agent", topology = %name, "lease of {} {} {}: {}", r.endpoint, r.interface, r.address, r.what);
                        let _ = events.send(AgentEvent::Leased { topology: name.clone(), renewal: r });
                    }
                    next
                }
                Err(e) => {
                    tracing::warn!(target: "vlanmac::agent", topology = %name, "leases: {e}");
                    Some(crate::dhcp::unix_now() + 10)
                }
            };
            k.lease_due = lease_due_of(k.engine.topology(), next);
        }
    }

    /// Opens a monitor on every namespace a topology watches that has
    /// none (and exists), and drops those no topology watches any more.
    async fn watch_namespaces(
        &self,
        kept: &BTreeMap<PathBuf, Kept<R>>,
        watches: &mut HashMap<NetnsRef, Watch>,
        tx: &UnboundedSender<Input>,
    ) {
        let wanted: HashSet<NetnsRef> =
            kept.values().flat_map(|k| k.interest.namespaces.iter().map(|n| n.nsref.clone())).collect();
        watches.retain(|ns, _| wanted.contains(ns));
        for ns in wanted {
            if watches.contains_key(&ns) {
                continue;
            }
            if let NetnsRef::Named(n) = &ns {
                if !vlanmac_core::netns::exists(n) {
                    continue;
                }
            }
            // Subscribed first, then the names read: nothing falls between.
            let Ok(mut monitor) = Monitor::open(ns.clone()).await else { continue };
            if let Some(bytes) = self.opts.monitor_buffer {
                let _ = monitor.set_receive_buffer(bytes);
            }
            let names = match Netlink::open(ns.clone()).await {
                Ok(nl) => nl.links().await.unwrap_or_default().into_iter().map(|l| (l.index, l.name)).collect(),
                Err(_) => HashMap::new(),
            };
            if let Ok(task) = sources::watch_namespace(monitor, tx.clone()) {
                watches.insert(ns, Watch { _task: task, names });
            }
        }
    }

    /// The topology's status, as `vlanmac status` shows it.
    fn publish(&self, k: &Kept<R>) {
        if let Ok(mut s) = self.status.lock() {
            match s.topologies.iter_mut().find(|t| t.file == k.status.file) {
                Some(t) => *t = k.status.clone(),
                None => s.topologies.push(k.status.clone()),
            }
        }
    }

    /// A sender into the agent's input channel, for tasks made while it
    /// runs.
    fn tx(&self) -> UnboundedSender<Input> {
        self.tx.clone().unwrap_or_else(|| mpsc::unbounded_channel().0)
    }

    /// Reads every file again: new topologies are applied, changed ones
    /// applied again, those whose file went taken down; a file that is not
    /// (any more) a valid topology is reported, its last good version kept.
    async fn reload(&mut self, kept: &mut BTreeMap<PathBuf, Kept<R>>, events: &UnboundedSender<AgentEvent>) {
        let loaded = files::load(&self.opts.paths);
        let present: HashSet<&PathBuf> = loaded.iter().map(|(f, _)| f).collect();
        let gone: Vec<PathBuf> = kept.keys().filter(|f| !present.contains(f)).cloned().collect();
        for file in gone {
            let Some(k) = kept.remove(&file) else { continue };
            self.take_down(k, events).await;
        }
        let mut refused = BTreeMap::new();
        for (file, l) in loaded {
            let shown = file.display().to_string();
            let t = match l {
                Loaded::Refused(e) => {
                    refused.insert(shown, e);
                    continue;
                }
                Loaded::Topology(t) => *t,
            };
            if let Some(other) = kept.values().find(|k| k.status.file != shown && k.engine.topology().name == t.name) {
                let e = format!("name: topology {} is also in {}", t.name, other.status.file);
                refused.insert(shown, e);
                continue;
            }
            match kept.get_mut(&file) {
                Some(k) if same(k.engine.topology(), &t) => {
                    k.refused = None;
                    k.settled();
                    self.publish(k);
                }
                Some(k) => {
                    if k.engine.topology().name != t.name {
                        // A new name: the old topology goes first.
                        let old = Engine::with_runtime(k.engine.topology().clone(), (self.runtime)());
                        let _ = old.down(&self.opts.apply).await;
                        let _ = events.send(AgentEvent::Removed { topology: k.status.name.clone() });
                        k.status.name = t.name.clone();
                    }
                    k.interest = Interest::of(&t);
                    k.engine = Engine::with_runtime(t, (self.runtime)());
                    k.runtime_events = None;
                    k.refused = None;
                    k.settled();
                    k.fresh = true;
                    self.look(k, "file changed");
                    self.publish(k);
                }
                None => {
                    let status = TopologyStatus {
                        name: t.name.clone(),
                        file: shown,
                        state: State::Repairing,
                        last_repair: None,
                        repairs: 0,
                        drift_events: 0,
                        backoff_s: 0,
                        error: None,
                    };
                    let mut k = Kept {
                        interest: Interest::of(&t),
                        engine: Engine::with_runtime(t, (self.runtime)()),
                        flap: Flap::new(self.opts.flap_window, self.opts.max_backoff),
                        failures: 0,
                        due: None,
                        burst: None,
                        cause: String::new(),
                        status,
                        runtime_events: None,
                        fresh: true,
                        refused: None,
                        lease_due: None,
                    };
                    self.look(&mut k, "file added");
                    self.publish(&k);
                    kept.insert(file, k);
                }
            }
        }
        // A refused file whose last good version runs keeps it, with the error.
        let mut orphans = BTreeMap::new();
        for (file, e) in refused {
            tracing::warn!(target: "vlanmac::agent", file = %file, "refused: {e}");
            self.metrics.config_error(&file);
            let _ = events.send(AgentEvent::FileRefused { file: file.clone(), error: e.clone() });
            match kept.values_mut().find(|k| k.status.file == file) {
                Some(k) => {
                    let refused = format!("file refused, its last good version kept: {e}");
                    k.refused = Some(refused.clone());
                    k.status.error = Some(refused);
                    self.publish(k);
                }
                None => {
                    orphans.insert(file, e);
                }
            }
        }
        if let Ok(mut s) = self.status.lock() {
            s.file_errors = orphans;
        }
    }

    /// `down` of a topology whose file went.
    async fn take_down(&self, k: Kept<R>, events: &UnboundedSender<AgentEvent>) {
        let name = k.status.name.clone();
        match k.engine.down(&self.opts.apply).await {
            Ok(res) => {
                tracing::info!(target: "vlanmac::agent", topology = %name, "file removed: taken down ({} removed)", res.removed.len())
            }
            Err(e) => tracing::warn!(target: "vlanmac::agent", topology = %name, "file removed, but down failed: {e}"),
        }
        self.metrics.set_converged(&name, false);
        if let Ok(mut s) = self.status.lock() {
            s.topologies.retain(|t| t.file != k.status.file);
        }
        let _ = events.send(AgentEvent::Removed { topology: name });
    }
}

/// When a failing topology may be tried again: a backoff doubling from
/// one second with each failure in a row, up to the bound.
fn backoff_until<R: ContainerRuntime>(k: &Kept<R>, opts: &AgentOptions) -> Option<Instant> {
    if k.failures == 0 {
        return None;
    }
    let secs = 1u64 << k.failures.saturating_sub(1).min(16);
    Some(Instant::now() + Duration::from_secs(secs).min(opts.max_backoff))
}

/// When the agent next looks at `t`'s leases (`next`: when they said,
/// else from the lease files) and, every 5 s, at its lab DHCP server.
fn lease_due_of(t: &crate::Topology, next: Option<u64>) -> Option<Instant> {
    let now = crate::dhcp::unix_now();
    let leases = next
        .or_else(|| crate::leases::next_due(t))
        .map(|at| Instant::now() + Duration::from_secs(at.saturating_sub(now)));
    let server = crate::lab_server::LabServer::of(t).map(|_| Instant::now() + Duration::from_secs(5));
    leases.into_iter().chain(server).min()
}

/// What a notification says, for the repair's cause.
fn describe(n: &Notification, name: Option<&str>, ns: &NetnsRef) -> String {
    let name = name.unwrap_or("?");
    match n {
        Notification::Link { removed: true, .. } => format!("link {name} deleted in netns {ns}"),
        Notification::Link { .. } => format!("link {name} changed in netns {ns}"),
        Notification::Address { removed: true, .. } => format!("address removed from {name} in netns {ns}"),
        Notification::Address { .. } => format!("address added to {name} in netns {ns}"),
        Notification::Route { removed: true, .. } => format!("route via {name} removed in netns {ns}"),
        Notification::Route { .. } => format!("route via {name} added in netns {ns}"),
        Notification::Lost => format!("notifications lost in netns {ns}"),
    }
}

/// Whether two versions of a topology are the same (as their JSON is).
fn same(a: &crate::Topology, b: &crate::Topology) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}
