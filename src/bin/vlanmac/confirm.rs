//! `vlanmac apply FILE --confirm DURATION`, `vlanmac confirm NAME`,
//! `vlanmac rollback NAME`, and the watchdog a confirmed apply leaves
//! behind (`vlanmac watchdog NAME`, a process of its own session that
//! ignores SIGHUP, so the rollback outlives the shell that applied). Every
//! command that touches topologies first rolls back the changes whose
//! deadline passed unconfirmed ([`sweep`]). The checkpoint and its rules
//! are the library's (`vlanmac::topology::checkpoint`).

use std::{io::IsTerminal, os::unix::process::CommandExt, path::Path, process::ExitCode, time::Duration};

use vlanmac::topology::{
    checkpoint::{self, Confirm, Outcome, State, StoredFile},
    dhcp::unix_now,
    verify::Probe,
    Error, Options,
};

/// The file as the checkpoint keeps it.
pub fn stored(file: &Path) -> Option<StoredFile> {
    let text = std::fs::read_to_string(file).ok()?;
    let name = file.file_name()?.to_string_lossy().into_owned();
    Some(StoredFile { name, text })
}

/// Rolls back every change whose deadline passed unconfirmed, saying so;
/// run before a command touches topologies.
pub async fn sweep() {
    for name in checkpoint::expired() {
        match checkpoint::rollback_if_expired(&name, "not confirmed by the deadline (found by a later command)").await {
            Ok(Outcome::RolledBack(r)) => {
                eprintln!(
                    "vlanmac: topology {name}: its change was not confirmed by the deadline; rolled back first{}",
                    failed_note(&r.failed)
                );
            }
            Ok(_) => {}
            Err(e) => eprintln!("vlanmac: topology {name}: rolling back its unconfirmed change failed: {e}"),
        }
    }
}

fn failed_note(failed: &[String]) -> String {
    if failed.is_empty() {
        String::new()
    } else {
        format!(" (undo steps that failed: {})", failed.join("; "))
    }
}

/// Prints what a settle came to; the exit code (0: as asked).
pub fn report(name: &str, asked: &str, outcome: &Outcome) -> ExitCode {
    match outcome {
        Outcome::Confirmed => {
            println!("topology {name}: confirmed; the change stays");
            ExitCode::SUCCESS
        }
        Outcome::RolledBack(r) => {
            let prev = if r.previous_applied { ", the previous file applied again" } else { "" };
            println!("topology {name}: rolled back{prev}{}", failed_note(&r.failed));
            if asked == "confirm" {
                eprintln!("vlanmac: the deadline passed before the confirm: the rollback won");
                return ExitCode::from(1);
            }
            if r.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Outcome::AlreadySettled(Some(State::Confirmed { by })) if asked == "wait" => {
            println!("topology {name}: confirmed ({by}); the change stays");
            ExitCode::SUCCESS
        }
        Outcome::AlreadySettled(state) => {
            let what = match state {
                None => "no change of it waits for confirmation".to_string(),
                Some(State::Confirmed { by }) => format!("already confirmed ({by})"),
                Some(State::RolledBack { reason, .. }) => format!("already rolled back ({reason})"),
                Some(State::Pending) => "still pending".to_string(),
            };
            eprintln!("vlanmac: topology {name}: {what}; nothing to {asked}");
            ExitCode::from(1)
        }
    }
}

/// Starts the watchdog: this binary again, `watchdog NAME`, in a session of
/// its own with SIGHUP ignored and no terminal; its log in the state
/// directory. Returns its PID.
fn spawn_watchdog(name: &str) -> std::io::Result<u32> {
    let exe = std::env::current_exe()?;
    let log_path = checkpoint::path(name).with_file_name("watchdog.log");
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path)?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("watchdog").arg(name).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(log);
    // SAFETY: setsid and signal are async-signal-safe; nothing else runs
    // between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let _ = nix::unistd::setsid();
            let _ = nix::sys::signal::signal(nix::sys::signal::Signal::SIGHUP, nix::sys::signal::SigHandler::SigIgn);
            Ok(())
        });
    }
    Ok(cmd.spawn()?.id())
}

/// `vlanmac watchdog NAME`: waits for the deadline, rolls back unless
/// settled meanwhile.
pub async fn watchdog(name: &str) -> Result<ExitCode, Error> {
    let outcome = checkpoint::watch(name).await?;
    if let Outcome::RolledBack(r) = &outcome {
        eprintln!("watchdog: topology {name} rolled back at the deadline{}", failed_note(&r.failed));
    }
    Ok(ExitCode::SUCCESS)
}

/// How `apply --confirm` was asked for.
pub struct How {
    /// The time a confirm may take.
    pub timeout: Duration,
    /// `--probe`s.
    pub probes: Vec<Probe>,
    /// `--json`.
    pub json: bool,
    /// `--diff`.
    pub diff: bool,
}

type TheEngine = vlanmac::topology::Engine<vlanmac::docker::Docker>;

/// Tries `p` once within `timeout` (`verify` through the engine).
async fn check(engine: &TheEngine, p: &Probe, timeout: Duration) -> Result<(), String> {
    if *p != Probe::Verify {
        return p.check(timeout).await;
    }
    match engine.verify(&Options::default()).await {
        Ok(r) if r.passed() => Ok(()),
        Ok(r) => Err(format!("{} of {} checks failed", r.failures().count(), r.checks.len())),
        Err(e) => Err(e.to_string()),
    }
}

/// The probes that pass before the change (they gate it); the others are
/// said to be ignored. `verify` always counts: before the change it checks
/// what is not applied yet.
async fn before(engine: &TheEngine, probes: &[Probe]) -> Vec<Probe> {
    let mut counted = Vec::new();
    for p in probes {
        if *p == Probe::Verify {
            counted.push(p.clone());
            continue;
        }
        match check(engine, p, Duration::from_secs(2)).await {
            Ok(()) => counted.push(p.clone()),
            Err(why) => eprintln!("vlanmac: probe `{p}` fails before the change ({why}): ignored"),
        }
    }
    counted
}

/// Each probe tried until it passes, for at most `grace` from the start
/// (one after the other); the first that never did, with why.
async fn after(engine: &TheEngine, probes: &[Probe], grace: Duration) -> Result<(), (Probe, String)> {
    let start = std::time::Instant::now();
    for p in probes {
        loop {
            let left = grace.saturating_sub(start.elapsed()).max(Duration::from_millis(500));
            match check(engine, p, left.min(Duration::from_secs(2))).await {
                Ok(()) => break,
                Err(why) if start.elapsed() >= grace => return Err((p.clone(), why)),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
    Ok(())
}

/// The confirmed apply: probes tried, checkpoint, apply, watchdog, probes
/// again (one that passed before and not after rolls back at once); then,
/// on a terminal, Enter confirms until the deadline.
pub async fn apply(engine: &TheEngine, file: &Path, opts: &Options, how: &How) -> Result<ExitCode, Error> {
    let (timeout, json, diff) = (how.timeout, how.json, how.diff);
    let name = engine.topology().name.clone();
    let counted = before(engine, &how.probes).await;
    let pending = engine.apply_confirmed(opts, Confirm { timeout, previous: None }).await?;
    if let Some(f) = stored(file) {
        let _ = checkpoint::remember(&name, &f);
    }
    crate::output::print(json, &pending.result, || pending.result.to_text(diff));
    match spawn_watchdog(&name) {
        Ok(pid) => {
            let _ = checkpoint::set_watchdog(&name, pid).await;
        }
        Err(e) => eprintln!(
            "vlanmac: could not start the watchdog ({e}): the next vlanmac command after the deadline rolls back"
        ),
    }
    if !counted.is_empty() {
        // Up to 5 s in all, and never past the deadline.
        let grace = Duration::from_secs(pending.deadline.saturating_sub(unix_now()).saturating_sub(1).clamp(1, 5));
        if let Err((p, why)) = after(engine, &counted, grace).await {
            eprintln!("vlanmac: probe `{p}` passed before the change and fails after it ({why}): rolling back");
            let outcome = checkpoint::rollback(&name, &format!("probe `{p}` failed after the change: {why}")).await?;
            report(&name, "rollback", &outcome);
            return Ok(ExitCode::from(1));
        }
        let names: Vec<String> = counted.iter().map(ToString::to_string).collect();
        eprintln!("vlanmac: probes pass after the change: {}", names.join(", "));
    }
    let left = pending.deadline.saturating_sub(unix_now());
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "vlanmac: topology {name}: confirm within {left} s (`vlanmac confirm {name}`), \
             or it is rolled back (`vlanmac rollback {name}` does it now)"
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("vlanmac: press Enter within {left} s to keep the change of {name} (or `vlanmac confirm {name}` from another shell)");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = tx.send(std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0));
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(left);
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(true) => {
                let outcome = checkpoint::confirm(&name, "Enter on the terminal").await?;
                return Ok(report(&name, "confirm", &outcome));
            }
            Ok(false) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                eprintln!("vlanmac: no Enter to read; `vlanmac confirm {name}` keeps the change, the watchdog rolls it back at the deadline");
                return Ok(ExitCode::SUCCESS);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        // Settled from elsewhere (`vlanmac confirm` in another shell).
        if checkpoint::load(&name).is_none_or(|c| c.state != State::Pending) {
            let state = checkpoint::load(&name).map(|c| c.state);
            return Ok(report(&name, "wait", &Outcome::AlreadySettled(state)));
        }
        if std::time::Instant::now() >= deadline {
            break;
        }
    }
    let outcome = checkpoint::rollback_if_expired(&name, "not confirmed by the deadline").await?;
    Ok(report(&name, "wait", &outcome))
}
