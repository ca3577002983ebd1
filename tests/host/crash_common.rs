//! A rig for crash tests: runs the `vlanmac` CLI on a topology file, kills
//! it (SIGKILL at a chosen netlink write through the fault injector's "stop
//! here" hook, or after a delay; SIGTERM/SIGINT after a delay), and checks
//! that the next runs recover: apply exits 0, a second plan is empty,
//! verify passes, no stale `/run/netns` entry and no temporary-named link
//! is left, and `down` restores the machine exactly (namespaces, links,
//! addresses, routes, mounts, files under /run/vlanmac).

use std::{
    collections::BTreeMap,
    os::unix::process::ExitStatusExt,
    path::PathBuf,
    process::{Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use vlanmac::topology::{self, Topology};

use crate::topo_common::*;

/// How a run that was meant to be killed ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Killed by this signal while running.
    Signal(i32),
    /// Exited with this status (it finished, or handled the signal).
    Exit(i32),
}

impl From<ExitStatus> for Ended {
    fn from(s: ExitStatus) -> Self {
        match (s.code(), s.signal()) {
            (Some(c), _) => Ended::Exit(c),
            (None, Some(sig)) => Ended::Signal(sig),
            (None, None) => Ended::Exit(-1),
        }
    }
}

/// A topology file, its namespaces, and the machine's state before it.
pub struct Rig {
    pub t: Topology,
    pub file: PathBuf,
    pub names: Vec<String>,
    before: BTreeMap<String, Vec<String>>,
}

impl Rig {
    /// Writes `yaml` to a file and records the state before any apply.
    pub fn new(yaml: &str) -> Rig {
        let t = topology::from_yaml(yaml, "x").unwrap();
        let file = write_temp(&format!("{}.yaml", t.name), yaml);
        let names = namespaces_of(&t);
        let mut rig = Rig { t, file, names, before: BTreeMap::new() };
        rig.before = rig.state();
        rig
    }

    /// The state that must come back: `snapshot` of the topology's
    /// namespaces, plus every `/run/netns` entry named like them (mounted
    /// or not), their mounts, and files under /run/vlanmac for the topology.
    pub fn state(&self) -> BTreeMap<String, Vec<String>> {
        let mut s = snapshot(&self.names);
        s.insert("entries".into(), self.entries());
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut m: Vec<String> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(4))
            .filter(|p| p.strip_prefix("/run/netns/").is_some_and(|n| self.names.iter().any(|x| x == n)))
            .map(str::to_string)
            .collect();
        m.sort();
        s.insert("mounts".into(), m);
        let mut files: Vec<String> = std::fs::read_dir(vlanmac::topology::LOCK_DIR)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|f| f.starts_with(&self.t.name))
            .collect();
        files.sort();
        s.insert("run-vlanmac".into(), files);
        s
    }

    /// `/run/netns` entries named like the topology's namespaces, each
    /// with `(stale)` when no namespace is mounted on it.
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .names
            .iter()
            .filter_map(|n| {
                let name = vlanmac::spec::NetnsName::new(n.clone()).ok()?;
                match vlanmac::netns::entry(&name) {
                    vlanmac::netns::Entry::Absent => None,
                    vlanmac::netns::Entry::Namespace => Some(n.clone()),
                    vlanmac::netns::Entry::Stale => Some(format!("{n} (stale)")),
                }
            })
            .collect();
        v.sort();
        v
    }

    fn cli(&self, args: &[&str]) -> Command {
        let mut c = Command::new(cli_path());
        c.args(args).arg(&self.file).stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    }

    /// Runs `vlanmac VERB FILE [ARGS]` to its end: (exit status, stdout + stderr).
    pub fn run(&self, verb: &str, extra: &[&str]) -> (i32, String) {
        let mut args = vec![verb];
        args.extend_from_slice(extra);
        let out = finish(self.cli(&args).spawn().unwrap(), &format!("vlanmac {args:?}"));
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }

    /// Netlink writes of a clean `apply`, and its wall time; taken down after.
    pub fn measure_apply(&self) -> (u64, Duration) {
        let t0 = Instant::now();
        let (code, out) = self.run("apply", &["--json"]);
        let took = t0.elapsed();
        assert_eq!(code, 0, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let writes = v["writes"].as_u64().unwrap();
        self.down_restores("after measuring");
        (writes, took)
    }

    /// How long a clean `apply` runs after it has taken the topology's lock
    /// (the span [`Rig::signal_after_lock`] delays are spread over); taken
    /// down after.
    ///
    /// The median of three runs: the first run on a fresh kernel also loads
    /// modules (8021q, macvlan), which later runs do not.
    pub fn measure_apply_after_lock(&self) -> Duration {
        let lock = self.lock_path();
        let mut runs: Vec<Duration> = (0..3)
            .map(|_| {
                let mut child = self.cli(&["apply"]).spawn().unwrap();
                while !lock.exists() && child.try_wait().unwrap().is_none() {
                    std::thread::sleep(Duration::from_micros(200));
                }
                let t0 = Instant::now();
                let out = child.wait_with_output().unwrap();
                let took = t0.elapsed();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                self.down_restores("after measuring");
                took
            })
            .collect();
        runs.sort();
        runs[1]
    }

    fn lock_path(&self) -> PathBuf {
        std::path::Path::new(vlanmac::topology::LOCK_DIR).join(format!("{}.lock", self.t.name))
    }

    /// Netlink writes of a clean `down` after a clean apply, and its wall time.
    pub fn measure_down(&self) -> (u64, Duration) {
        let (code, out) = self.run("apply", &[]);
        assert_eq!(code, 0, "{out}");
        // The "stop here" hook past every write lets down run to its end
        // while counting; count by killing at ever larger k instead would be
        // slow, so count through the library.
        let opts = vlanmac::topology::Options::default();
        let t0 = Instant::now();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(self.t.down(&opts)).unwrap();
        let took = t0.elapsed();
        assert_eq!(self.state(), self.before, "down after measuring");
        (opts.shared.stats.writes(), took)
    }

    /// Runs `vlanmac VERB FILE` with the hook that SIGKILLs it just before
    /// its `k`-th netlink write. Panics unless it was killed there.
    pub fn kill_at_write(&self, verb: &str, k: u64) {
        let child = self.cli(&[verb]).env("VLANMAC_FAULT_KILL_AT_WRITE", k.to_string()).spawn().unwrap();
        let out = finish(child, &format!("vlanmac {verb} killed at write {k}"));
        assert_eq!(
            Ended::from(out.status),
            Ended::Signal(libc::SIGKILL),
            "{verb} with a kill at write {k}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts `vlanmac VERB FILE`, waits `after`, sends `signal` (and a
    /// second one `again` later, if given). Returns how it ended and
    /// whether the signal landed while it ran.
    pub fn signal_after(
        &self,
        verb: &str,
        after: Duration,
        signal: i32,
        again: Option<Duration>,
    ) -> (Ended, bool, String) {
        self.signal(verb, false, after, signal, again)
    }

    /// [`Rig::signal_after`], counting `after` from the moment the run
    /// holds the topology's lock (it has started its work, its signal
    /// handlers are installed).
    pub fn signal_after_lock(&self, verb: &str, after: Duration, signal: i32) -> (Ended, bool, String) {
        self.signal(verb, true, after, signal, None)
    }

    /// SIGKILLs `apply` at `n` points spread over its run (see
    /// [`Rig::signal_spread_over_apply`]), each followed by
    /// [`Rig::recovers`]. Returns how many kills landed while the apply ran,
    /// and the last span.
    pub fn sigkill_spread_over_apply(&self, n: u32, what: &str) -> (u32, Duration) {
        self.signal_spread_over_apply(n, libc::SIGKILL, |d, ended, was_running, out| {
            match ended {
                Ended::Signal(libc::SIGKILL) | Ended::Exit(0) => {}
                other => panic!("{what}: SIGKILL after {d:?}: {other:?}\n{out}"),
            }
            self.recovers(&format!("{what}: SIGKILL after {d:?}"));
            was_running && ended == Ended::Signal(libc::SIGKILL)
        })
    }

    /// Sends `signal` to `apply` at `n` points spread over its run
    /// (`1/(n+1)` … `n/(n+1)` of its duration from the moment it holds the
    /// lock); `outcome(delay, how it ended, whether it was still running,
    /// its output)` checks each and says whether it landed during the
    /// apply. One that did not (the machine got faster than when it was
    /// measured: load in the kernel VM varies) is aimed again at a span
    /// shortened by a quarter, at most `n` times in all. Returns how many
    /// landed, and the last span.
    pub fn signal_spread_over_apply(
        &self,
        n: u32,
        signal: i32,
        mut outcome: impl FnMut(Duration, Ended, bool, &str) -> bool,
    ) -> (u32, Duration) {
        let mut span = self.measure_apply_after_lock();
        let (mut landed, mut retries) = (0, 0);
        for i in 1..=n {
            loop {
                let d = span * i / (n + 1);
                let (ended, was_running, out) = self.signal_after_lock("apply", d, signal);
                if outcome(d, ended, was_running, &out) {
                    landed += 1;
                    break;
                }
                retries += 1;
                if retries > n {
                    break;
                }
                span = span * 3 / 4;
            }
        }
        (landed, span)
    }

    fn signal(
        &self,
        verb: &str,
        wait_lock: bool,
        after: Duration,
        signal: i32,
        again: Option<Duration>,
    ) -> (Ended, bool, String) {
        let lock = self.lock_path();
        let mut child = self.cli(&[verb]).spawn().unwrap();
        if wait_lock {
            let give_up = Instant::now() + Duration::from_secs(30);
            while !lock.exists() && child.try_wait().unwrap().is_none() && Instant::now() < give_up {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        std::thread::sleep(after);
        let landed = child.try_wait().unwrap().is_none();
        // SAFETY: kill(2) on the PID of our own child, which has not been reaped.
        unsafe { libc::kill(child.id() as i32, signal) };
        if let Some(d) = again {
            std::thread::sleep(d);
            // SAFETY: as above; the child is reaped only by wait_with_output below.
            unsafe { libc::kill(child.id() as i32, signal) };
        }
        let out = finish(child, &format!("vlanmac {verb} signalled {signal} after {after:?}"));
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (Ended::from(out.status), landed, text)
    }

    /// Temporary-named links and stale `/run/netns` entries in a [`Rig::state`].
    pub fn debris(state: &BTreeMap<String, Vec<String>>) -> Vec<String> {
        state
            .iter()
            .flat_map(|(ns, lines)| lines.iter().map(move |l| (ns, l)))
            .filter(|(ns, l)| l.starts_with(vlanmac::TEMP_PREFIX) || (*ns == "entries" && l.ends_with("(stale)")))
            .map(|(ns, l)| format!("{ns}: {l}"))
            .collect()
    }

    /// After a kill: the next apply (the CLI) exits 0, a second plan is
    /// empty, verify passes, nothing half-made remains (read with `ip`),
    /// then `down` restores the machine. The plan, verify and down after
    /// the apply go through the same engine in this process: in the kernel
    /// VM every process start costs a quarter of a second.
    pub fn recovers(&self, what: &str) {
        let (code, out) = self.run("apply", &[]);
        assert_eq!(code, 0, "{what}: the next apply failed:\n{out}");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let opts = vlanmac::topology::Options::default();
        let plan = rt.block_on(self.t.plan(&opts)).unwrap_or_else(|e| panic!("{what}: plan failed: {e}"));
        assert!(plan.is_empty(), "{what}: a second plan is not empty:\n{plan}");
        let report = rt.block_on(self.t.verify(&opts)).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(report.passed(), "{what}: verify failed:\n{report}");
        let debris = Rig::debris(&self.state());
        assert!(debris.is_empty(), "{what}: left after recovery: {debris:?}");
        let down = rt.block_on(self.t.down(&opts)).unwrap_or_else(|e| panic!("{what}: down failed: {e}"));
        assert_eq!(self.state(), self.before, "{what}: down did not restore the machine: {:?}", down.removed);
    }

    /// `down` exits 0 and the machine is exactly as before the first apply.
    pub fn down_restores(&self, what: &str) {
        let (code, out) = self.run("down", &[]);
        assert_eq!(code, 0, "{what}: down failed:\n{out}");
        assert_eq!(self.state(), self.before, "{what}: down did not restore the machine:\n{out}");
    }

    /// Whether the machine is as before the first apply.
    pub fn is_as_before(&self) -> bool {
        self.state() == self.before
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        // Best effort, so a failing test leaves nothing behind.
        let _ = self.run("down", &[]);
        for n in &self.names {
            if let Ok(name) = vlanmac::spec::NetnsName::new(n.clone()) {
                let _ = vlanmac::netns::remove_stale(&name);
            }
        }
        let _ = std::fs::remove_file(&self.file);
    }
}

/// How long one CLI run may take before the test fails naming it (the
/// kernel VM is slow; a hang must still end the test).
const RUN_DEADLINE: Duration = Duration::from_secs(300);

/// Waits for `child` (its output piped) up to [`RUN_DEADLINE`]; a run that
/// takes longer is killed and the test fails naming `what`. Each run is
/// traced on stderr (shown when a test fails, or with `--nocapture`).
fn finish(mut child: std::process::Child, what: &str) -> std::process::Output {
    let t0 = Instant::now();
    // Drain the pipes on threads, so a chatty child cannot block on them.
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>));
    let err = drain(child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>));
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > RUN_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
            panic!("{what}: still running after {RUN_DEADLINE:?}; killed. stderr: {stderr}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output =
        std::process::Output { status, stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() };
    eprintln!("rig: {what}: {:?} in {:?}", Ended::from(status), t0.elapsed());
    output
}

/// The CLI under test: `$VLANMAC_CLI` (scripts/test points it at the
/// release build inside the kernel VM, where every process start is slow),
/// else the one cargo built with these tests.
fn cli_path() -> String {
    std::env::var("VLANMAC_CLI").unwrap_or_else(|_| env!("CARGO_BIN_EXE_vlanmac").to_string())
}

/// `n` points spread evenly over `1..=total`.
pub fn spread(total: u64, n: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).map(|i| 1 + i * total.saturating_sub(1) / n.saturating_sub(1).max(1)).collect();
    v.dedup();
    v
}

/// `n` delays spread evenly over `(0, span)`.
pub fn delays(span: Duration, n: u32) -> Vec<Duration> {
    (1..=n).map(|i| span * i / (n + 1)).collect()
}
