//! When a topology may be repaired next: at once, unless a repair had to
//! make again a change the previous repair made, within the flap window
//! (someone keeps undoing it), then after a backoff that doubles up to a
//! bound; a topology that stays converged for a window is calm again.
//! Different drifts in quick succession are no flapping. Pure: the agent
//! gives the times and the changes.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

/// The backoff of one topology.
#[derive(Debug, Clone)]
pub(crate) struct Flap {
    /// A repair within this long after the previous one counts as flapping.
    window: Duration,
    /// The longest backoff.
    max: Duration,
    last_repair: Option<Instant>,
    /// What the last repair changed, as the plan prints each change.
    last_changes: BTreeSet<String>,
    backoff: Duration,
}

impl Flap {
    pub(crate) fn new(window: Duration, max: Duration) -> Flap {
        Flap { window, max, last_repair: None, last_changes: BTreeSet::new(), backoff: Duration::ZERO }
    }

    /// A repair (an apply that changed something) at `now`, that made
    /// `changes`.
    pub(crate) fn repaired(&mut self, now: Instant, changes: BTreeSet<String>) {
        let soon = self.last_repair.is_some_and(|t| now.saturating_duration_since(t) < self.window + self.backoff);
        let again = soon && !self.last_changes.is_disjoint(&changes);
        self.backoff = if again { (self.backoff * 2).clamp(Duration::from_secs(1), self.max) } else { Duration::ZERO };
        self.last_repair = Some(now);
        self.last_changes = changes;
    }

    /// An apply that is no repair (the first, or of a file's new version)
    /// at `now`: what it changed is nobody undoing anything.
    pub(crate) fn applied(&mut self) {
        self.last_repair = None;
        self.last_changes.clear();
        self.backoff = Duration::ZERO;
    }

    /// A look that found nothing to change, at `now`: calm again once the
    /// last repair is a window behind.
    pub(crate) fn converged(&mut self, now: Instant) {
        if self.last_repair.is_none_or(|t| now.saturating_duration_since(t) >= self.window + self.backoff) {
            self.backoff = Duration::ZERO;
        }
    }

    /// Whether repairs keep coming back (the backoff is on).
    pub(crate) fn flapping(&self) -> bool {
        !self.backoff.is_zero()
    }

    /// The current backoff.
    pub(crate) fn backoff(&self) -> Duration {
        self.backoff
    }

    /// The earliest time the next repair may run.
    pub(crate) fn not_before(&self) -> Option<Instant> {
        self.last_repair.map(|t| t + self.backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(c: &[&str]) -> BTreeSet<String> {
        c.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn a_drift_that_keeps_coming_back_is_backed_off_to_the_bound() {
        let (w, max) = (Duration::from_secs(10), Duration::from_secs(60));
        let mut f = Flap::new(w, max);
        let t0 = Instant::now();
        let up = || changes(&["~ e1 link eth0 up"]);
        f.repaired(t0, up());
        assert!(!f.flapping(), "one repair is no flapping");
        let mut t = t0;
        let mut seen = Vec::new();
        for _ in 0..10 {
            t = f.not_before().unwrap() + Duration::from_millis(100);
            f.repaired(t, up());
            seen.push(f.backoff().as_secs());
        }
        assert!(f.flapping());
        assert_eq!(&seen[..7], &[1, 2, 4, 8, 16, 32, 60]);
        assert_eq!(f.backoff(), max);
        // Quiet for long enough: calm again.
        f.converged(t + max + w);
        assert!(!f.flapping());
        // A drift long after the last repair is a plain repair.
        let mut g = Flap::new(w, max);
        g.repaired(t0, up());
        g.repaired(t0 + Duration::from_secs(30), up());
        assert!(!g.flapping());
    }

    #[test]
    fn different_drifts_in_a_row_and_first_applies_are_no_flapping() {
        let mut f = Flap::new(Duration::from_secs(10), Duration::from_secs(60));
        let t0 = Instant::now();
        f.repaired(t0, changes(&["+ e1 link eth0", "+ e1 address eth0 10.0.0.2/24"]));
        f.applied();
        f.repaired(t0 + Duration::from_millis(200), changes(&["+ e1 link eth0"]));
        assert!(!f.flapping(), "the first apply made it: no flapping");
        f.repaired(t0 + Duration::from_millis(400), changes(&["~ e2 link eth0 up"]));
        f.repaired(t0 + Duration::from_millis(600), changes(&["~ e3 link eth0 mtu 1500"]));
        assert!(!f.flapping(), "three drifts of three objects");
        f.repaired(t0 + Duration::from_millis(800), changes(&["~ e3 link eth0 mtu 1500"]));
        assert!(f.flapping(), "the same change made again at once");
    }
}
