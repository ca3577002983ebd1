//! The `vlanmac` command line. Exit codes: 0 success, 1 an
//! operation or check failed, 2 invalid input (the message names the field).

mod agent;
mod confirm;
mod demo;
#[cfg(test)]
mod docs_tests;
mod manual;
mod notify;
mod output;
mod render;
mod show;
mod signals;

use std::{path::PathBuf, process::ExitCode};

use clap::{CommandFactory, Parser, Subcommand};
use render::RenderFormat;
use vlanmac::{
    docker::Docker,
    privileges::require_admin,
    topology::{Engine, Error, Options, Topology},
    verify::CheckPlan,
    FaultInjector, Shared,
};

#[derive(Parser)]
#[command(
    name = "vlanmac",
    version,
    about = "Namespaces and containers on 802.1Q VLANs through macvlan",
    after_long_help = "Exit codes: 0 success; 1 an operation or a check failed; 2 invalid input (the message names the field)."
)]
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
        /// Seconds to wait for the DHCP leases of `ipv4: dhcp` interfaces
        /// (all asked for at once); without them by then the apply fails,
        /// rolled back.
        #[arg(long, value_name = "SECS", default_value_t = 10)]
        dhcp_timeout: u64,
        /// Keep the change only if confirmed within DURATION (90s, 2m, 1h)
        /// after the apply: Enter on a terminal, or `vlanmac confirm NAME`;
        /// otherwise it is rolled back, even if this shell is gone
        /// (docs/CONFIRM.md).
        #[arg(long, value_name = "DURATION", value_parser = |s: &str| vlanmac::topology::confirm_spec::parse_duration("--confirm", s))]
        confirm: Option<std::time::Duration>,
        /// With --confirm: a check that gates the change (`ping ADDR [from
        /// NS]`, `tcp HOST:PORT`, `gateway`, `verify`); one that passes
        /// before the change and not after it rolls back at once. Repeatable.
        #[arg(long = "probe", value_name = "SPEC", requires = "confirm")]
        probes: Vec<vlanmac::topology::verify::Probe>,
    },
    /// Keep the change `apply --confirm` made to topology NAME.
    Confirm {
        /// The topology's name.
        name: String,
    },
    /// Undo the change `apply --confirm` made to topology NAME, now.
    Rollback {
        /// The topology's name.
        name: String,
    },
    /// Roll back topology NAME's unconfirmed change at its deadline (what
    /// `apply --confirm` leaves running).
    #[command(hide = true)]
    Watchdog {
        /// The topology's name.
        name: String,
    },
    /// Remove what FILE's apply created, nothing else.
    Down {
        /// Topology file (YAML or JSON).
        file: PathBuf,
        /// Only print what would be removed; change nothing.
        #[arg(long)]
        check: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Reachability, hop counts, neighbours and read-back; exit 1 on any failure.
    Verify {
        /// Topology file (YAML or JSON).
        file: PathBuf,
        /// Ping every endpoint from every other (grows with the square of
        /// the endpoints) instead of the linear plan: gateways, a ring per
        /// network, one hop probe per pair of networks.
        #[arg(long)]
        mesh: bool,
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
        /// Write the files into this directory instead of printing them:
        /// one NETWORK.conflist per network (cni), or each unit, keyfile or
        /// netplan file under its own name (systemd-networkd,
        /// networkmanager with mode 0600, netplan).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the shell completion script for SHELL (bash, zsh, fish, ...).
    ///
    /// bash: `vlanmac completions bash > /etc/bash_completion.d/vlanmac`;
    /// zsh: into a directory of `$fpath` as `_vlanmac`; fish: into
    /// `~/.config/fish/completions/vlanmac.fish`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the manual pages (vlanmac.1 and one per command) into DIR.
    Man {
        /// Where to write them (e.g. /usr/local/share/man/man1).
        #[arg(long)]
        out: PathBuf,
    },
    /// Keep topologies true: apply each, then repair what drifts (systemd Type=notify).
    ///
    /// Each PATH is a topology file or a folder of them (default
    /// /etc/vlanmac/topologies): files added are applied, changed applied
    /// again, removed taken down; SIGHUP re-reads them; SIGTERM stops the
    /// agent and leaves every topology as it is. See docs/AGENT.md.
    Agent {
        /// Topology files or folders.
        paths: Vec<PathBuf>,
        /// Serve OpenMetrics text at http://ADDR/metrics (e.g. 127.0.0.1:9464).
        #[arg(long, value_name = "ADDR")]
        metrics: Option<std::net::SocketAddr>,
        /// Where `vlanmac status` asks (one agent per socket).
        #[arg(long, default_value = agent::SOCKET)]
        socket: PathBuf,
        /// Look at every topology this often even without a notification.
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        resync: u64,
    },
    /// How the running agent's topologies stand: converged, repairing, flapping, failed.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The agent's socket.
        #[arg(long, default_value = agent::SOCKET)]
        socket: PathBuf,
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

/// Exit code for an error: 2 for invalid input, 1 otherwise.
fn fail(e: &Error) -> ExitCode {
    eprintln!("vlanmac: {e}");
    ExitCode::from(if e.is_invalid_input() { 2 } else { 1 })
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

/// The engine for FILE (the topology read and validated), with the Docker
/// daemon of `$DOCKER_HOST` under it, opened only if the topology has
/// containers or Docker networks. The engine checks privileges once per
/// verb, before anything is touched.
fn engine(file: &std::path::Path) -> Result<Engine<Docker>, Error> {
    Ok(Engine::with_runtime(Topology::from_path(file)?, Docker::from_env()))
}

/// The request counters shared by an operation's handles, with the test
/// hooks of `FaultInjector::from_env` (`VLANMAC_FAULT_KILL_AT_WRITE=K`: the
/// process kills itself just before its K-th netlink write, to test
/// recovery from any kill point).
fn options_from_env() -> Options {
    Options::with_shared(Shared { faults: FaultInjector::from_env(), ..Shared::default() })
}

async fn run(cmd: Command) -> Result<ExitCode, Error> {
    // First thing for apply, so a signal at any point of it is handled.
    let signals = matches!(cmd, Command::Apply { check: false, .. }).then(signals::Signals::install);
    // Changes whose deadline passed unconfirmed go back before anything
    // else — once the command's own file is valid (a refused input changes
    // nothing, not even that).
    let sweep = match &cmd {
        Command::Plan { file, .. }
        | Command::Apply { file, .. }
        | Command::Down { file, .. }
        | Command::Verify { file, .. } => Topology::from_path(file).is_ok(),
        Command::Agent { .. } => true,
        _ => false,
    };
    if sweep {
        confirm::sweep().await;
    }
    let mut opts = options_from_env();
    match cmd {
        Command::Plan { file, json } => {
            let plan = engine(&file)?.plan(&opts).await?;
            output::print(json, &plan, || plan.to_text(false));
        }
        Command::Apply { file, check: true, diff, json, .. } => {
            let plan = engine(&file)?.plan(&opts).await?;
            output::print(json, &output::CheckResult::from(&plan), || plan.to_text(diff));
        }
        Command::Apply { file, check: false, diff, json, dhcp_timeout, confirm, probes } => {
            let engine = engine(&file)?;
            // The file's `confirm:` section, unless --confirm says otherwise;
            // its probes and --probe's together.
            let section = engine.topology().confirm.clone();
            if let Some(timeout) = confirm.or(section.as_ref().map(|s| s.timeout)) {
                let probes = section.map(|s| s.probes).unwrap_or_default().into_iter().chain(probes).collect();
                opts.dhcp_timeout = Some(std::time::Duration::from_secs(dhcp_timeout.max(1)));
                opts.interrupt = signals.as_ref().map(|s| s.interrupt().clone()).unwrap_or_default();
                let how = confirm::How { timeout, probes, json, diff };
                return confirm::apply(&engine, &file, &opts, &how).await;
            }
            opts.dhcp_timeout = Some(std::time::Duration::from_secs(dhcp_timeout.max(1)));
            let progress = output::ProgressDisplay::new(json);
            opts.progress = Some(progress.callback());
            opts.interrupt = signals.as_ref().map(|s| s.interrupt().clone()).unwrap_or_default();
            let res = engine.apply(&opts).await;
            progress.finish();
            match res {
                Ok(res) => {
                    if let Some(f) = confirm::stored(&file) {
                        let _ = vlanmac::topology::checkpoint::remember(&engine.topology().name, &f);
                    }
                    output::print(json, &res, || res.to_text(diff));
                    if !res.leases.is_empty() && !std::path::Path::new(agent::SOCKET).exists() {
                        eprintln!(
                            "vlanmac: no agent runs ({}): the DHCP leases lapse at their end unless \
                             `vlanmac agent` renews them",
                            agent::SOCKET
                        );
                    }
                }
                Err(e) => {
                    let Some((sig, name)) = signals.as_ref().and_then(|s| s.received()) else { return Err(e) };
                    eprintln!("vlanmac: {name}: {e}");
                    return Ok(ExitCode::from(128 + sig as u8));
                }
            }
        }
        Command::Down { file, check, json } => {
            let res = engine(&file)?.down(&Options { dry_run: check, ..opts }).await?;
            output::print(json, &res, || res.to_text());
        }
        Command::Verify { file, mesh, json } => {
            let check_plan = if mesh { CheckPlan::Mesh } else { CheckPlan::Linear };
            let report = engine(&file)?.verify(&Options { check_plan, ..opts }).await?;
            output::print(json, &report, || report.to_string());
            return Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) });
        }
        Command::Show { netns, json } => {
            // Another namespace than the caller's needs privileges.
            if let Some(n) = &netns {
                require_admin(&format!("show netns {n}"))?;
            }
            return Ok(show::show(netns.as_deref(), json).await?);
        }
        Command::Render { file, format, out } => return render::render(&file, format, out.as_deref()),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "vlanmac", &mut std::io::stdout());
        }
        Command::Man { out } => return manual::write(Cli::command(), &out).map_err(Into::into),
        Command::Demo { docker, keep } => return demo::demo(docker, keep).await,
        Command::Agent { paths, metrics, socket, resync } => {
            let resync = std::time::Duration::from_secs(resync.max(1));
            return agent::run(agent::Args { paths, metrics, socket, resync }).await;
        }
        Command::Status { json, socket } => return agent::status(&socket, json),
        Command::Confirm { name } => {
            require_admin(&format!("confirm {name}"))?;
            let outcome = vlanmac::topology::checkpoint::confirm(&name, "vlanmac confirm").await?;
            return Ok(confirm::report(&name, "confirm", &outcome));
        }
        Command::Rollback { name } => {
            require_admin(&format!("rollback {name}"))?;
            let outcome = vlanmac::topology::checkpoint::rollback(&name, "vlanmac rollback").await?;
            return Ok(confirm::report(&name, "rollback", &outcome));
        }
        Command::Watchdog { name } => return confirm::watchdog(&name).await,
    }
    Ok(ExitCode::SUCCESS)
}
