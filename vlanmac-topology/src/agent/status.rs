//! What the agent says of itself: per topology, its state (converged,
//! repairing, flapping, failed), its last repair and its counts, as
//! `vlanmac status` shows them; and the same as OpenMetrics text for
//! `/metrics` (names start `vlanmac_`).

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime},
};

use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use serde::{Deserialize, Serialize};

/// Where a topology stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The kernel holds what the topology says.
    Converged,
    /// A drift was seen; the repair is due or running.
    Repairing,
    /// Its repairs keep being undone: backed off.
    Flapping,
    /// The last apply failed (the error says why; it is tried again).
    Failed,
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            State::Converged => "converged",
            State::Repairing => "repairing",
            State::Flapping => "flapping",
            State::Failed => "failed",
        })
    }
}

/// One repair: an apply that changed something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repair {
    /// What it changed, as the plan prints each change.
    pub changes: Vec<String>,
    /// What made the agent look (`link eth0.10 deleted in seed-host`,
    /// `resync`, `file changed`, ...).
    pub cause: String,
    /// When it finished, in seconds since the epoch.
    pub at: u64,
    /// How long it took, in milliseconds.
    pub took_ms: u64,
}

/// One topology, as `vlanmac status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopologyStatus {
    /// The topology's name.
    pub name: String,
    /// The file it comes from.
    pub file: String,
    /// Where it stands.
    pub state: State,
    /// Its last repair.
    pub last_repair: Option<Repair>,
    /// Repairs made since the agent started.
    pub repairs: u64,
    /// Notifications that concerned it.
    pub drift_events: u64,
    /// The backoff while flapping, in seconds.
    pub backoff_s: u64,
    /// Why the last apply failed, or why its file is refused (the last
    /// good version of it keeps running).
    pub error: Option<String>,
}

/// The agent, as `vlanmac status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Its process.
    pub pid: u32,
    /// When it started, in seconds since the epoch.
    pub started_at: u64,
    /// The topologies, by file.
    pub topologies: Vec<TopologyStatus>,
    /// Files refused (not valid topologies, no last good version): file and error.
    pub file_errors: BTreeMap<String, String>,
    /// CNI attachments whose namespace was gone, collected.
    pub cni_collected: u64,
}

impl Status {
    /// The text `vlanmac status` prints.
    pub fn to_text(&self) -> String {
        let mut out = format!("vlanmac agent (pid {}): {} topologies\n", self.pid, self.topologies.len());
        for t in &self.topologies {
            out.push_str(&format!(
                "  {} ({}): {}, {} repairs, {} drift events",
                t.name, t.file, t.state, t.repairs, t.drift_events
            ));
            if t.state == State::Flapping {
                out.push_str(&format!(", backed off {} s", t.backoff_s));
            }
            out.push('\n');
            if let Some(r) = &t.last_repair {
                out.push_str(&format!(
                    "    last repair {} s ago, {} ms ({}): {}\n",
                    now_secs().saturating_sub(r.at),
                    r.took_ms,
                    r.cause,
                    r.changes.join("; ")
                ));
            }
            if let Some(e) = &t.error {
                out.push_str(&format!("    error: {e}\n"));
            }
        }
        for (f, e) in &self.file_errors {
            out.push_str(&format!("  {f}: refused: {e}\n"));
        }
        if self.cni_collected > 0 {
            out.push_str(&format!("  CNI attachments collected: {}\n", self.cni_collected));
        }
        out
    }
}

/// Seconds since the epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

type Labels = Vec<(String, String)>;

fn histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 15))
}

/// The agent's metrics (OpenMetrics, names `vlanmac_...`).
pub struct Metrics {
    registry: Registry,
    repairs: Family<Labels, Counter>,
    drift_events: Family<Labels, Counter>,
    repair_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    converged: Family<Labels, Gauge>,
    config_errors: Family<Labels, Counter>,
    cni_collected: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("vlanmac");
        let repairs = Family::<Labels, Counter>::default();
        let drift_events = Family::<Labels, Counter>::default();
        let repair_seconds =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(histogram as fn() -> _);
        let converged = Family::<Labels, Gauge>::default();
        let config_errors = Family::<Labels, Counter>::default();
        let cni_collected = Counter::default();
        registry.register("repairs", "Changes made by repairs, by topology and kind of object", repairs.clone());
        registry.register("drift_events", "Notifications that concerned a topology", drift_events.clone());
        registry.register("repair_duration_seconds", "How long repairs took", repair_seconds.clone());
        registry.register("converged", "1 when a topology is converged, else 0", converged.clone());
        registry.register("config_errors", "Topology files refused", config_errors.clone());
        registry.register(
            "cni_attachments_collected",
            "CNI attachments whose namespace was gone, collected",
            cni_collected.clone(),
        );
        Metrics { registry, repairs, drift_events, repair_seconds, converged, config_errors, cni_collected }
    }
}

fn topology(t: &str) -> Labels {
    vec![("topology".into(), t.into())]
}

impl Metrics {
    /// A repair of `t` that made `changes` in `took`.
    pub(crate) fn repaired(&self, t: &str, changes: &[crate::Change], took: Duration) {
        for c in changes {
            // `link eth0.10` -> link, `netns` -> netns, `connect c1 -> v10` -> connect.
            let kind = c.object.split_whitespace().next().unwrap_or("other").to_string();
            self.repairs.get_or_create(&vec![("topology".into(), t.into()), ("kind".into(), kind)]).inc();
        }
        self.repair_seconds.get_or_create(&topology(t)).observe(took.as_secs_f64());
    }

    /// A notification that concerned `t`.
    pub(crate) fn drift(&self, t: &str) {
        self.drift_events.get_or_create(&topology(t)).inc();
    }

    /// Whether `t` is converged.
    pub(crate) fn set_converged(&self, t: &str, yes: bool) {
        self.converged.get_or_create(&topology(t)).set(i64::from(yes));
    }

    /// A topology file refused.
    pub(crate) fn config_error(&self, file: &str) {
        self.config_errors.get_or_create(&vec![("file".into(), file.into())]).inc();
    }

    /// CNI attachments collected.
    pub(crate) fn cni_collected(&self, n: u64) {
        self.cni_collected.inc_by(n);
    }

    /// The metrics as OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String does not fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
