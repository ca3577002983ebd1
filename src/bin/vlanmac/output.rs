//! Text and JSON output, and progress on a terminal.

use std::{
    io::{IsTerminal, Write},
    sync::Arc,
};

use serde::Serialize;
use vlanmac::topology::{
    apply::{ApplyResult, Progress},
    down::DownResult,
    plan::{Change, Plan},
};

/// Prints `value` as JSON, or `text()` otherwise.
pub fn print<T: Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) {
    if json {
        match serde_json::to_string_pretty(value) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("vlanmac: cannot write JSON: {e}"),
        }
    } else {
        print!("{}", text());
    }
}

/// `apply --check`: what would change.
#[derive(Serialize)]
pub struct CheckResult<'a> {
    pub changed: bool,
    check: bool,
    changes: &'a [Change],
    /// Docker networks and connections still to make.
    pub docker: &'a [String],
}

impl<'a> From<&'a Plan> for CheckResult<'a> {
    fn from(p: &'a Plan) -> Self {
        CheckResult { changed: !p.is_empty(), check: true, changes: &p.changes, docker: &[] }
    }
}

/// A plan with its Docker part.
#[derive(Serialize)]
pub struct PlanWithDocker<'a> {
    #[serde(flatten)]
    pub plan: &'a Plan,
    /// Docker networks and connections still to make.
    pub docker: &'a [String],
}

fn change_line(c: &Change, diff: bool) -> String {
    let mut s = format!("{} {:<14} {}", c.sign, c.netns, c.object);
    if !c.detail.is_empty() {
        s.push_str(&format!("  {}", c.detail));
    }
    if diff {
        if let Some(b) = &c.before {
            s.push_str(&format!("\n    - {b}"));
        }
        if let Some(a) = &c.after {
            s.push_str(&format!("\n    + {a}"));
        }
    } else if let (Some(b), Some(a)) = (&c.before, &c.after) {
        s.push_str(&format!("  ({b} -> {a})"));
    }
    s.push('\n');
    s
}

/// The plan as text, with before/after lines under `--diff`.
pub fn plan_text(p: &Plan, diff: bool) -> String {
    let mut s: String = p.changes.iter().map(|c| change_line(c, diff)).collect();
    let (a, m, r) = p.counts();
    if p.is_empty() {
        s.push_str(&format!("topology {}: no changes; the kernel matches the spec\n", p.topology));
    } else {
        s.push_str(&format!("topology {}: {a} to create, {m} to change, {r} to remove\n", p.topology));
    }
    s
}

/// What apply did, as text.
pub fn apply_text(r: &ApplyResult, diff: bool) -> String {
    let mut s: String = r.changes.iter().map(|c| change_line(c, diff)).collect();
    if r.changed {
        s.push_str(&format!(
            "topology {}: applied {} changes ({} netlink writes)\n",
            r.topology,
            r.changes.len(),
            r.writes
        ));
    } else {
        s.push_str(&format!("topology {}: no changes; the kernel already matched\n", r.topology));
    }
    s
}

/// What down removed, as text.
pub fn down_text(r: &DownResult) -> String {
    let mut s: String = r.removed.iter().map(|x| format!("- {x}\n")).collect();
    if r.removed.is_empty() {
        s.push_str(&format!("topology {}: nothing to remove\n", r.topology));
    } else {
        s.push_str(&format!("topology {}: down\n", r.topology));
    }
    s
}

/// Whether progress should be drawn (stderr is a terminal).
pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// A one-line progress display on stderr: `[ 12/40] + container1 link eth0`.
pub fn progress_bar() -> Progress {
    Arc::new(|i, n, c: &Change| {
        let mut e = std::io::stderr();
        let _ = write!(e, "\r\x1b[2K[{i:>3}/{n}] {} {} {}", c.sign, c.netns, c.object);
        let _ = e.flush();
    })
}

/// Clears the progress line.
pub fn finish_progress(json: bool) {
    if !json && stderr_is_tty() {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
}
