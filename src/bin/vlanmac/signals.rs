//! SIGINT and SIGTERM during `apply`: the first asks the apply to stop
//! before its next step and roll back what it made; a second one exits at
//! once (status 128 + signal), leaving a state the next run recovers from.

use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc,
};

use signal_hook::consts::{SIGINT, SIGTERM};
use vlanmac::Interrupt;

/// The signals handled, and which one arrived first.
pub struct Signals {
    interrupt: Interrupt,
    which: Arc<AtomicUsize>,
}

impl Signals {
    /// Installs the handlers. If that fails the default behaviour (exit at
    /// once) stays, which the next run also recovers from.
    pub fn install() -> Signals {
        let seen = Arc::new(AtomicBool::new(false));
        let which = Arc::new(AtomicUsize::new(0));
        for sig in [SIGINT, SIGTERM] {
            // Order matters: the exit is armed by the flag the second
            // registration sets, so only a second signal exits.
            let _ = signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, seen.clone());
            let _ = signal_hook::flag::register(sig, seen.clone());
            let _ = signal_hook::flag::register_usize(sig, which.clone(), sig as usize);
        }
        Signals { interrupt: Interrupt::from_flag(seen), which }
    }

    /// The interrupt the apply checks.
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// The first signal received, with its name: `(15, "SIGTERM")`.
    pub fn received(&self) -> Option<(i32, &'static str)> {
        match self.which.load(Ordering::SeqCst) as i32 {
            SIGINT => Some((SIGINT, "SIGINT")),
            SIGTERM => Some((SIGTERM, "SIGTERM")),
            _ => None,
        }
    }
}
