//! When a topology may be repaired next: at once, unless a repair had to
//! make a change for the third time in a row, each within the flap window
//! of the one before (someone keeps undoing it), then after a backoff that
//! doubles up to a bound; a topology that stays converged for a window is
//! calm again. Different drifts in quick succession are no flapping, and
//! neither is one drift after a repair that remade everything (a parent
//! deleted and made again). Pure: the agent gives the times and the
//! changes.

use std::{
    collections::{BTreeSet, HashMap},
    time::{Duration, Instant},
};

/// How many repairs in a row of one change make flapping.
const STREAK: u32 = 3;

/// The backoff of one topology.
#[derive(Debug, Clone)]
pub(crate) struct Flap {
    /// A change made again within this long after it was last made
    /// continues its streak.
    window: Duration,
    /// The longest backoff.
    max: Duration,
    last_repair: Option<Instant>,
    /// Each change repaired lately (as the plan prints it): when, and how
    /// many times in a row.
    streaks: HashMap<String, (Instant, u32)>,
    backoff: Duration,
}

impl Flap {
    pub(crate) fn new(window: Duration, max: Duration) -> Flap {
        Flap { window, max, last_repair: None, streaks: HashMap::new(), backoff: Duration::ZERO }
    }

    /// A repair (an apply that changed something) at `now`, that made
    /// `changes`.
    pub(crate) fn repaired(&mut self, now: Instant, changes: BTreeSet<String>) {
        let within = self.window + self.backoff;
        self.streaks.retain(|_, (t, _)| now.saturating_duration_since(*t) < within);
        let mut longest = 0;
        for c in changes {
            let e = self.streaks.entry(c).or_insert((now, 0));
            *e = (now, e.1 + 1);
            longest = longest.max(e.1);
        }
        self.backoff =
            if longest >= STREAK { (self.backoff * 2).clamp(Duration::from_secs(1), self.max) } else { Duration::ZERO };
        self.last_repair = Some(now);
    }

    /// An apply that is no repair (the first, or of a file's new version):
    /// what it changed is nobody undoing anything.
    pub(crate) fn applied(&mut self) {
        self.last_repair = None;
        self.streaks.clear();
        self.backoff = Duration::ZERO;
    }

    /// A look that found nothing to change, at `now`: calm again once the
    /// last repair is a window behind.
    pub(crate) fn converged(&mut self, now: Instant) {
        if self.last_repair.is_none_or(|t| now.saturating_duration_since(t) >= self.window + self.backoff) {
            self.backoff = Duration::ZERO;
            self.streaks.clear();
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
        // The second repair is no flapping yet, the third is.
        assert_eq!(&seen[..8], &[0, 1, 2, 4, 8, 16, 32, 60]);
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
        assert!(!f.flapping(), "a change made twice");
        f.repaired(t0 + Duration::from_millis(1000), changes(&["~ e3 link eth0 mtu 1500"]));
        assert!(f.flapping(), "the same change made a third time at once");
    }

    #[test]
    fn one_drift_after_a_repair_of_everything_is_no_flapping() {
        let mut f = Flap::new(Duration::from_secs(10), Duration::from_secs(60));
        let t0 = Instant::now();
        let all = changes(&["+ host link eth0", "+ e1 link eth0", "+ e2 link eth0"]);
        f.repaired(t0, all);
        f.repaired(t0 + Duration::from_millis(300), changes(&["+ e1 link eth0"]));
        f.repaired(t0 + Duration::from_millis(600), changes(&["+ e2 link eth0"]));
        assert!(!f.flapping());
        // Long after: a streak starts again.
        f.repaired(t0 + Duration::from_secs(30), changes(&["+ e1 link eth0"]));
        f.repaired(t0 + Duration::from_secs(31), changes(&["+ e1 link eth0"]));
        assert!(!f.flapping());
    }
}
