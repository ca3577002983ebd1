//! Text or JSON (the texts are the results' own `to_text`), and progress
//! on a terminal.

use std::{io::IsTerminal, sync::Arc};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
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

/// The progress display of `apply`: an indicatif bar on stderr,
/// `[ 12/40] + container1 link eth0`, its message cut to the terminal's
/// width. Hidden when stderr is not a terminal and with `--json`.
pub struct ProgressDisplay {
    bar: ProgressBar,
}

impl ProgressDisplay {
    /// A display for `apply`; hidden with `json` or without a terminal.
    pub fn new(json: bool) -> ProgressDisplay {
        let target = if json || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        // The template is fixed and valid; the fallback keeps the default.
        if let Ok(style) = ProgressStyle::with_template("[{pos:>3}/{len}] {wide_msg}") {
            bar.set_style(style);
        }
        ProgressDisplay { bar }
    }

    /// The callback `apply` calls before each step.
    pub fn callback(&self) -> Progress {
        let bar = self.bar.clone();
        Arc::new(move |i, n, c: &Change| {
            bar.set_length(n as u64);
            bar.set_position(i as u64);
            bar.set_message(format!("{} {} {}", c.sign, c.netns, c.object));
        })
    }

    /// Clears the display (before the result is printed).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
