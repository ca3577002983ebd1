//! `vlanmac agent [PATH]...`: vlanmac-topology's `Agent` as a service — one
//! per machine (a lock file holding its PID), `vlanmac status` answered on
//! a unix socket, OpenMetrics on `--metrics ADDR`, systemd's notify
//! protocol (READY, STATUS, WATCHDOG, STOPPING), SIGHUP re-reads the files,
//! SIGTERM and SIGINT stop it leaving every topology as it is; and
//! `vlanmac status`, the socket's client.

use std::{
    io::{Read, Write},
    net::SocketAddr,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    sync::mpsc,
};
use vlanmac::{
    docker::Docker,
    privileges::require_admin,
    topology::{
        agent::{Agent, AgentEvent, AgentOptions, Control, Metrics, Status},
        Error,
    },
    Shared,
};

use crate::notify;

/// Where the agent answers `vlanmac status`.
pub const SOCKET: &str = "/run/vlanmac/agent.sock";
/// What the agent watches when given no path.
pub const DEFAULT_PATH: &str = "/etc/vlanmac/topologies";

/// How `vlanmac agent` was asked to run.
pub struct Args {
    pub paths: Vec<PathBuf>,
    pub metrics: Option<SocketAddr>,
    pub socket: PathBuf,
    pub resync: Duration,
}

fn io(what: &str, e: std::io::Error) -> Error {
    Error::Core(vlanmac::Error::io(what, e))
}

/// The one agent of this socket: a lock file beside it (`agent.lock` for
/// the default socket, `SOCKET.lock` otherwise) held for the agent's life,
/// with its PID in it. Another agent is refused at once, naming that PID.
fn lock(socket: &Path) -> Result<nix::fcntl::Flock<std::fs::File>, Error> {
    let path = if socket == Path::new(SOCKET) {
        socket.with_file_name("agent.lock")
    } else {
        let mut p = socket.as_os_str().to_owned();
        p.push(".lock");
        PathBuf::from(p)
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(&format!("create {}", dir.display()), e))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| io(&format!("open {}", path.display()), e))?;
    match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
        Ok(mut held) => {
            held.set_len(0).map_err(|e| io(&format!("write {}", path.display()), e))?;
            writeln!(held, "{}", std::process::id()).map_err(|e| io(&format!("write {}", path.display()), e))?;
            Ok(held)
        }
        Err((mut file, _)) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            let msg = format!(
                "another vlanmac agent is running (PID {}, lock {})",
                if pid.is_empty() { "unknown" } else { pid },
                path.display()
            );
            Err(Error::Core(vlanmac::Error::Conflict(msg)))
        }
    }
}

/// Runs the agent until SIGTERM or SIGINT.
pub async fn run(args: Args) -> Result<ExitCode, Error> {
    require_admin("run the vlanmac agent")?;
    let _lock = lock(&args.socket)?;
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .without_time()
        .try_init();
    let paths = if args.paths.is_empty() { vec![PathBuf::from(DEFAULT_PATH)] } else { args.paths };
    let mut opts = AgentOptions::new(paths);
    opts.resync = args.resync;
    // The test hooks: faults and kill points at netlink writes; a small
    // monitor buffer (to make the kernel drop notifications).
    opts.monitor_buffer = std::env::var("VLANMAC_AGENT_MONITOR_BUFFER").ok().and_then(|b| b.parse().ok());
    opts.apply = vlanmac::topology::Options::with_shared(Shared {
        faults: vlanmac::FaultInjector::from_env(),
        ..Shared::default()
    });
    let agent = Agent::new(opts, Docker::from_env).with_sweep(Box::new(|| vlanmac_cni::collect_dead(None)));
    let (status, metrics) = (agent.status(), agent.metrics());

    let _ = std::fs::remove_file(&args.socket);
    let listener = tokio::net::UnixListener::bind(&args.socket)
        .map_err(|e| io(&format!("listen on {}", args.socket.display()), e))?;
    let _ = std::fs::set_permissions(&args.socket, std::fs::Permissions::from_mode(0o600));
    tokio::spawn(serve_status(listener, status.clone()));
    if let Some(addr) = args.metrics {
        let l = tokio::net::TcpListener::bind(addr).await.map_err(|e| io(&format!("listen on {addr}"), e))?;
        tokio::spawn(serve_metrics(l, metrics));
    }

    let (control, control_rx) = mpsc::unbounded_channel();
    let mut term = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut hup = signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            let c = tokio::select! {
                _ = term.recv() => Control::Stop,
                _ = int.recv() => Control::Stop,
                _ = hup.recv() => Control::Reload,
            };
            if c == Control::Reload {
                tracing::info!("re-reading the topology files (SIGHUP)");
            }
            if control.send(c).is_err() || c == Control::Stop {
                return;
            }
        }
    });
    if let Some(every) = notify::watchdog_interval() {
        tokio::spawn(async move {
            loop {
                notify::send("WATCHDOG=1");
                tokio::time::sleep(every).await;
            }
        });
    }
    let (events, mut events_rx) = mpsc::unbounded_channel();
    let shown = status.clone();
    tokio::spawn(async move {
        while let Some(e) = events_rx.recv().await {
            let ready = matches!(e, AgentEvent::Started { .. });
            let line = summary(&shown);
            notify::send(&if ready { format!("READY=1\nSTATUS={line}") } else { format!("STATUS={line}") });
        }
    });
    let result = agent.run(control_rx, events).await;
    notify::send("STOPPING=1");
    let _ = std::fs::remove_file(&args.socket);
    result.map(|()| ExitCode::SUCCESS)
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Result<tokio::signal::unix::Signal, Error> {
    tokio::signal::unix::signal(kind).map_err(|e| io("install a signal handler", e))
}

/// The one line systemd shows for the agent.
fn summary(status: &Arc<Mutex<Status>>) -> String {
    let Ok(s) = status.lock() else { return String::new() };
    let count = |st| s.topologies.iter().filter(|t| t.state == st).count();
    use vlanmac::topology::agent::State;
    format!(
        "{} topologies: {} converged, {} repairing, {} flapping, {} failed",
        s.topologies.len(),
        count(State::Converged),
        count(State::Repairing),
        count(State::Flapping),
        count(State::Failed)
    )
}

/// Answers `status` on the socket with the status as JSON.
async fn serve_status(listener: tokio::net::UnixListener, status: Arc<Mutex<Status>>) {
    while let Ok((mut conn, _)) = listener.accept().await {
        let status = status.clone();
        tokio::spawn(async move {
            let mut req = [0u8; 64];
            let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut req)).await.ok().and_then(Result::ok);
            let reply = match n.map(|n| String::from_utf8_lossy(&req[..n]).trim().to_string()) {
                Some(r) if r == "status" => {
                    let s = status.lock().map(|s| s.clone()).unwrap_or_default();
                    serde_json::to_string(&s).unwrap_or_default()
                }
                _ => "{\"error\": \"unknown request (send: status)\"}".to_string(),
            };
            let _ = conn.write_all(reply.as_bytes()).await;
        });
    }
}

/// Serves the metrics at `GET /metrics` (anything else: 404).
async fn serve_metrics(listener: tokio::net::TcpListener, metrics: Arc<Metrics>) {
    while let Ok((mut conn, _)) = listener.accept().await {
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            // The request line and headers, at most 8 KiB, within 5 s.
            let read = tokio::time::timeout(Duration::from_secs(5), async {
                while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 8192 {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
            });
            if read.await.is_err() {
                return;
            }
            let line = String::from_utf8_lossy(&req).lines().next().unwrap_or_default().to_string();
            let (code, kind, body) = if line.starts_with("GET /metrics ") || line == "GET /metrics" {
                ("200 OK", "application/openmetrics-text; version=1.0.0; charset=utf-8", metrics.encode())
            } else {
                ("404 Not Found", "text/plain", "only /metrics is here\n".to_string())
            };
            let head = format!(
                "HTTP/1.1 {code}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes()).await;
            let _ = conn.write_all(body.as_bytes()).await;
        });
    }
}

/// `vlanmac status [--json]`: asks the running agent.
pub fn status(socket: &Path, json: bool) -> Result<ExitCode, Error> {
    let mut conn = std::os::unix::net::UnixStream::connect(socket)
        .map_err(|e| Error::Core(vlanmac::Error::io(format!("no vlanmac agent answers at {}", socket.display()), e)))?;
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    conn.write_all(b"status\n").map_err(|e| io("ask the agent", e))?;
    let _ = conn.shutdown(std::net::Shutdown::Write);
    let mut reply = String::new();
    conn.read_to_string(&mut reply).map_err(|e| io("read the agent's answer", e))?;
    let s: Status = serde_json::from_str(&reply).map_err(|e| {
        Error::Core(vlanmac::Error::Decode { what: "the agent's status".into(), detail: e.to_string() })
    })?;
    if json {
        println!("{reply}");
    } else {
        print!("{}", s.to_text());
    }
    Ok(ExitCode::SUCCESS)
}
