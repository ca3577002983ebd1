//! Stopping an `apply` cleanly from outside: a signal handler (Ctrl-C,
//! `systemctl stop`) or Python's `KeyboardInterrupt` triggers an
//! [`Interrupt`]; the apply notices it before its next step, sends nothing
//! more, rolls back what it made, and returns [`Error::Interrupted`] inside
//! [`Error::Apply`].

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use crate::error::{Error, Result};

/// A flag an operation checks between its steps. Clones share the flag.
///
/// ```
/// use vlanmac_core::Interrupt;
/// let stop = Interrupt::new();
/// let for_the_handler = stop.clone();
/// for_the_handler.trigger(); // e.g. from a signal handler's thread
/// assert!(stop.is_triggered());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// A flag that is not triggered.
    pub fn new() -> Self {
        Interrupt::default()
    }

    /// An interrupt that reads `flag`, for signal handlers that set an
    /// `AtomicBool` (e.g. `signal_hook::flag::register`).
    pub fn from_flag(flag: Arc<AtomicBool>) -> Self {
        Interrupt(flag)
    }

    /// Asks the operation to stop before its next step.
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`Interrupt::trigger`] was called (or the flag set).
    pub fn is_triggered(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(Error::Interrupted)` naming what was about to start, once triggered.
    pub fn check(&self, next: impl FnOnce() -> String) -> Result<()> {
        if self.is_triggered() {
            Err(Error::Interrupted { before: next() })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag_and_check_names_the_next_step() {
        let a = Interrupt::new();
        assert!(a.check(|| "x".into()).is_ok());
        a.clone().trigger();
        let e = a.check(|| "add link eth0".into()).unwrap_err();
        assert!(matches!(&e, Error::Interrupted { before } if before == "add link eth0"), "{e}");
        assert!(e.to_string().contains("interrupted"), "{e}");
    }
}
