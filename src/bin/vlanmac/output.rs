//! Text or JSON (the texts are the results' own `to_text`), and progress
//! on a terminal.

use std::{
    io::{IsTerminal, Write},
    sync::Arc,
};

use serde::Serialize;
use vlanmac::topology::{Change, Plan, Progress};

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
    changed: bool,
    check: bool,
    #[serde(flatten)]
    plan: &'a Plan,
}

impl<'a> From<&'a Plan> for CheckResult<'a> {
    fn from(plan: &'a Plan) -> Self {
        CheckResult { changed: !plan.is_empty(), check: true, plan }
    }
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
