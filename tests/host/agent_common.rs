//! A running `vlanmac agent` for tests: the CLI started on topology files
//! (or folders) with its socket, lock and log in a scratch folder and its
//! metrics on a free port; `vlanmac status --json` and `/metrics` read back;
//! SIGTERM (or SIGKILL) on drop, every topology it kept taken down.

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

/// The CLI under test (see crash_common's `cli_path`).
pub fn cli_path() -> String {
    std::env::var("VLANMAC_CLI").unwrap_or_else(|_| env!("CARGO_BIN_EXE_vlanmac").to_string())
}

/// How long the agent may take to get somewhere: the kernel VM is slow.
pub fn patience() -> Duration {
    if crate::common::kernel_required() {
        Duration::from_secs(240)
    } else {
        Duration::from_secs(60)
    }
}

/// A scratch folder, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("vlanmac-agent-{}-{n}-{tag}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running agent.
pub struct AgentRun {
    pub child: Option<Child>,
    pub dir: Scratch,
    pub socket: PathBuf,
    pub metrics: std::net::SocketAddr,
    /// Topology files to take down at the end.
    pub files: Vec<PathBuf>,
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl AgentRun {
    /// `vlanmac agent PATHS... --socket DIR/agent.sock --metrics 127.0.0.1:PORT`
    /// with `env`; returns once every topology is converged (or failed,
    /// when `allow_failed`).
    pub fn start(paths: &[&Path], env: &[(&str, &str)], files: &[PathBuf]) -> AgentRun {
        let run = AgentRun::spawn(paths, env, files);
        run.wait_until("every topology converged", |s| {
            let ts = s["topologies"].as_array().cloned().unwrap_or_default();
            !ts.is_empty() && ts.iter().all(|t| t["state"] == "converged")
        });
        run
    }

    /// Starts the agent and returns at once.
    pub fn spawn(paths: &[&Path], env: &[(&str, &str)], files: &[PathBuf]) -> AgentRun {
        let dir = Scratch::new("run");
        let socket = dir.0.join("agent.sock");
        let metrics: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log = std::fs::File::create(dir.0.join("agent.log")).unwrap();
        let mut c = Command::new(cli_path());
        c.arg("agent")
            .args(paths)
            .arg("--socket")
            .arg(&socket)
            .arg("--metrics")
            .arg(metrics.to_string())
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in env {
            c.env(k, v);
        }
        let child = c.spawn().expect("start vlanmac agent");
        AgentRun { child: Some(child), dir, socket, metrics, files: files.to_vec() }
    }

    /// What the agent printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("agent.log")).unwrap_or_default()
    }

    /// The agent's PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// `vlanmac status --json`, or `Value::Null` when it does not answer.
    pub fn status(&self) -> Value {
        let out = Command::new(cli_path())
            .args(["status", "--json", "--socket"])
            .arg(&self.socket)
            .output()
            .expect("run vlanmac status");
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// The status of topology `name`.
    pub fn topology(&self, name: &str) -> Value {
        let s = self.status();
        s["topologies"].as_array().into_iter().flatten().find(|t| t["name"] == name).cloned().unwrap_or(Value::Null)
    }

    /// `GET /metrics`.
    pub fn metrics(&self) -> String {
        let Ok(mut c) = std::net::TcpStream::connect(self.metrics) else { return String::new() };
        let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut out = String::new();
        let _ = c.read_to_string(&mut out);
        out
    }

    /// One value of the metrics (the first line starting with `prefix`).
    pub fn metric(&self, prefix: &str) -> f64 {
        self.metrics()
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    /// Waits until `ok(status)` holds; fails naming `what` after [`patience`].
    pub fn wait_until(&self, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let t0 = Instant::now();
        loop {
            let s = self.status();
            if ok(&s) {
                return s;
            }
            if t0.elapsed() > patience() {
                panic!("agent: {what}: not after {:?}\nstatus: {s}\nlog:\n{}", patience(), self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `ok()` holds (the kernel's state, read with `ip`).
    pub fn wait_for(&self, what: &str, ok: impl Fn() -> bool) -> Duration {
        let t0 = Instant::now();
        loop {
            if ok() {
                return t0.elapsed();
            }
            if t0.elapsed() > patience() {
                panic!("agent: {what}: not after {:?}\nstatus: {}\nlog:\n{}", patience(), self.status(), self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` and waits for the exit; returns the exit code.
    pub fn stop_with(&mut self, signal: i32) -> Option<i32> {
        let mut child = self.child.take()?;
        unsafe_kill(child.id(), signal);
        let t0 = Instant::now();
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                return st.code();
            }
            if t0.elapsed() > patience() {
                let _ = child.kill();
                let _ = child.wait();
                panic!("agent: still running {:?} after signal {signal}\n{}", patience(), self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The agent's CPU time so far (user + system), from /proc.
    pub fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the command's closing parenthesis: utime is the 14th
        // field of the line, stime the 15th.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        let ticks = f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0);
        Duration::from_millis(ticks * 1000 / 100)
    }
}

/// `kill(pid, signal)` on a process these tests started.
pub fn unsafe_kill(pid: u32, signal: i32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::try_from(signal).unwrap_or(nix::sys::signal::Signal::SIGKILL),
    );
}

impl Drop for AgentRun {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe_kill(c.id(), libc::SIGTERM);
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        for f in &self.files {
            let _ = Command::new(cli_path()).arg("down").arg(f).output();
        }
    }
}

/// A process these tests started, ended (SIGTERM, then SIGKILL after 10 s)
/// on drop, so that a failing test leaves no agent behind.
pub struct Spawned(pub Child);

impl Spawned {
    /// SIGTERM and wait: the exit code.
    pub fn stop(&mut self) -> Option<i32> {
        unsafe_kill(self.0.id(), libc::SIGTERM);
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(st)) = self.0.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        self.0.wait().ok()?.code()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.stop();
        }
    }
}

/// Runs `ip ARGS`, its failure ignored (the drift an outside actor makes).
pub fn ip(args: &[&str]) {
    let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("ip");
    let _ = Command::new(ip).args(args).output();
}
