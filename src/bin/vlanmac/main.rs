//! The `vlanmac` command line. Exit codes: 0 success, 1 an
//! operation or check failed, 2 invalid input (the message names the field).

mod demo;
mod output;
mod show;
mod signals;

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand, ValueEnum};
use vlanmac::{
    docker::{topology as dtopo, DockerAdapter, Error as DockerError},
    privileges::require_admin,
    topology::{apply::ApplyOptions, Topology},
    Error, FaultInjector, Shared,
};

#[derive(Parser)]
#[command(name = "vlanmac", version, about = "Namespaces and containers on 802.1Q VLANs through macvlan")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the changes `apply` would make; changes nothing.
    Plan {
        /// Topology file (YAML or JSON).
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make the kernel match the topology (rolled back if any step fails).
    Apply {
        /// Topology file (YAML or JSON).
        file: PathBuf,
        /// Only report what would change.
        #[arg(long)]
        check: bool,
        /// Show before/after of each change.
        #[arg(long)]
        diff: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove what FILE's apply created, nothing else.
    Down {
        /// Topology file (YAML or JSON).
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Reachability, hop counts, neighbours and read-back; exit 1 on any failure.
    Verify {
        /// Topology file (YAML or JSON).
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Links with kind, VLAN, mode, parent, MAC, MTU and addresses (like `ip -d addr`).
    Show {
        /// Namespace to show (default: the current one).
        #[arg(long)]
        netns: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Render configuration for what lives outside the host.
    Render {
        /// Topology file (YAML or JSON).
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum)]
        format: RenderFormat,
        /// With `--format cni`: write one NETWORK.conflist per network into
        /// this directory instead of printing them.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The seed walkthrough in throwaway namespaces: apply, verify, tear down.
    Demo {
        /// Also through Docker (needs the Docker adapter).
        #[arg(long)]
        docker: bool,
        /// Leave everything in place afterwards.
        #[arg(long)]
        keep: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RenderFormat {
    CiscoRouter,
    CiscoSwitch,
    Dot,
    SystemdNetworkd,
    /// One vlanmac-cni conflist per network (podman, containerd).
    Cni,
    /// One Multus NetworkAttachmentDefinition per network (Kubernetes).
    Multus,
}

/// A failure of the kernel side or of the Docker side.
#[derive(Debug)]
enum Failure {
    Core(Error),
    Docker(DockerError),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl From<DockerError> for Failure {
    fn from(e: DockerError) -> Self {
        Failure::Docker(e)
    }
}

/// Exit code for an error: 2 for invalid input, 1 otherwise.
fn fail(e: &Failure) -> ExitCode {
    let invalid = match e {
        Failure::Core(e) => {
            eprintln!("vlanmac: {e}");
            matches!(e, Error::InvalidSpec(_))
        }
        Failure::Docker(e) => {
            eprintln!("vlanmac: {e}");
            matches!(e, DockerError::InvalidSpec(_) | DockerError::Core(Error::InvalidSpec(_)))
        }
    };
    ExitCode::from(if invalid { 2 } else { 1 })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vlanmac: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn load(file: &std::path::Path) -> Result<Topology, Error> {
    Topology::from_path(file)
}

/// The Docker engine, for topologies that need one.
async fn docker_for(t: &Topology) -> Result<Option<DockerAdapter>, Failure> {
    if dtopo::needs_docker(t) {
        Ok(Some(DockerAdapter::open().await?))
    } else {
        Ok(None)
    }
}

/// The request counters shared by an operation's handles, with the test
/// hooks of `FaultInjector::from_env` (`VLANMAC_FAULT_KILL_AT_WRITE=K`: the
/// process kills itself just before its K-th netlink write, to test
/// recovery from any kill point).
fn shared_from_env() -> Shared {
    Shared { faults: FaultInjector::from_env(), ..Shared::default() }
}

/// What a command that reads or changes namespaces is about to do, checked
/// for privileges before anything is touched (`None`: nothing to check).
fn privileged_action(cmd: &Command) -> Option<String> {
    let of = |verb: &str, file: &std::path::Path| format!("{verb} {}", file.display());
    match cmd {
        Command::Plan { file, .. } => Some(of("plan", file)),
        Command::Apply { file, .. } => Some(of("apply", file)),
        Command::Down { file, .. } => Some(of("down", file)),
        Command::Verify { file, .. } => Some(of("verify", file)),
        Command::Show { netns: Some(n), .. } => Some(format!("show netns {n}")),
        Command::Demo { .. } => Some("demo".into()),
        Command::Show { netns: None, .. } | Command::Render { .. } => None,
    }
}

async fn run(cmd: Command) -> Result<ExitCode, Failure> {
    // First thing for apply, so a signal at any point of it is handled.
    let signals = matches!(cmd, Command::Apply { check: false, .. }).then(signals::Signals::install);
    let shared = shared_from_env();
    if let Some(what) = privileged_action(&cmd) {
        require_admin(&what)?;
    }
    match cmd {
        Command::Plan { file, json } => {
            let t = load(&file)?;
            let (plan, docker_lines) = match docker_for(&t).await? {
                Some(d) => dtopo::plan(&t, &d, &shared).await?,
                None => (t.plan(&shared).await?, Vec::new()),
            };
            output::print(json, &output::PlanWithDocker { plan: &plan, docker: &docker_lines }, || {
                let mut s: String = docker_lines.iter().map(|l| format!("{l}\n")).collect();
                s.push_str(&plan.to_string());
                s
            });
        }
        Command::Apply { file, check, diff, json } => {
            let t = load(&file)?;
            if check {
                let (plan, docker_lines) = match docker_for(&t).await? {
                    Some(d) => dtopo::plan(&t, &d, &shared).await?,
                    None => (t.plan(&shared).await?, Vec::new()),
                };
                let mut check = output::CheckResult::from(&plan);
                check.docker = &docker_lines;
                check.changed |= !docker_lines.is_empty();
                output::print(json, &check, || {
                    let mut s: String = docker_lines.iter().map(|l| format!("{l}\n")).collect();
                    s.push_str(&output::plan_text(&plan, diff));
                    s
                });
                return Ok(ExitCode::SUCCESS);
            }
            let progress = (!json && output::stderr_is_tty()).then(|| output::progress_bar());
            let opts = ApplyOptions {
                shared: shared.clone(),
                progress: progress.map(|p| p as Arc<_>),
                interrupt: signals.as_ref().map(|s| s.interrupt().clone()).unwrap_or_default(),
            };
            let interrupted = |e: &dyn std::fmt::Display| {
                let (sig, name) = signals.as_ref()?.received()?;
                eprintln!("vlanmac: {name}: {e}");
                Some(ExitCode::from(128 + sig as u8))
            };
            match docker_for(&t).await? {
                Some(d) => {
                    let res = dtopo::apply(&t, &d, &opts).await;
                    output::finish_progress(json);
                    if let Some(code) = res.as_ref().err().and_then(|e| interrupted(e)) {
                        return Ok(code);
                    }
                    let res = res?;
                    output::print(json, &res, || {
                        let mut s = output::apply_text(&res.core, diff);
                        for (n, o) in &res.networks {
                            s.push_str(&format!("docker network {n}: {o:?}\n"));
                        }
                        for c in &res.connected {
                            s.push_str(&format!("docker connect {c}\n"));
                        }
                        s
                    });
                }
                None => {
                    let res = t.apply(&opts).await;
                    output::finish_progress(json);
                    if let Some(code) = res.as_ref().err().and_then(|e| interrupted(e)) {
                        return Ok(code);
                    }
                    let res = res?;
                    output::print(json, &res, || output::apply_text(&res, diff));
                }
            }
        }
        Command::Down { file, json } => {
            let t = load(&file)?;
            let (res, docker_lines) = match docker_for(&t).await? {
                Some(d) => dtopo::down(&t, &d, &shared).await?,
                None => (t.down(&shared).await?, Vec::new()),
            };
            output::print(json, &res, || {
                let mut s: String = docker_lines.iter().map(|l| format!("- {l}\n")).collect();
                s.push_str(&output::down_text(&res));
                s
            });
        }
        Command::Verify { file, json } => {
            let t = load(&file)?;
            let report = match docker_for(&t).await? {
                Some(d) => dtopo::verify(&t, &d, &shared).await?,
                None => vlanmac::verify::verify(&t, &shared).await?,
            };
            output::print(json, &report, || report.to_string());
            return Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) });
        }
        Command::Show { netns, json } => return Ok(show::show(netns.as_deref(), json).await?),
        Command::Render { file, format, out } => {
            let t = load(&file)?;
            if let Some(dir) = out {
                if !matches!(format, RenderFormat::Cni) {
                    eprintln!("vlanmac: invalid input: --out: only with --format cni");
                    return Ok(ExitCode::from(2));
                }
                for (name, text) in vlanmac::render::cni_conflists(&t) {
                    let path = dir.join(&name);
                    std::fs::write(&path, text).map_err(|e| Error::io(format!("write {}", path.display()), e))?;
                    println!("{}", path.display());
                }
                return Ok(ExitCode::SUCCESS);
            }
            let text = match format {
                RenderFormat::CiscoRouter => vlanmac::render::cisco_router(&t),
                RenderFormat::CiscoSwitch => vlanmac::render::cisco_switch(&t),
                RenderFormat::Dot => vlanmac::render::dot(&t),
                RenderFormat::SystemdNetworkd => vlanmac::render::systemd_networkd(&t),
                RenderFormat::Cni => vlanmac::render::cni(&t),
                RenderFormat::Multus => vlanmac::render::multus(&t),
            };
            print!("{text}");
        }
        Command::Demo { docker, keep } => return demo::demo(docker, keep).await,
    }
    Ok(ExitCode::SUCCESS)
}
