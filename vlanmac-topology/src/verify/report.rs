use std::fmt;

use serde::Serialize;

use crate::options::CheckPlan;

/// What a check looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// Kernel state read back against the spec.
    Readback,
    /// ICMP echo.
    Ping,
    /// Hop count with TTL-limited probes.
    Hops,
    /// The router's neighbour (ARP) table.
    Neighbour,
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckKind::Readback => "readback",
            CheckKind::Ping => "ping",
            CheckKind::Hops => "hops",
            CheckKind::Neighbour => "neighbour",
        })
    }
}

/// Where a failed check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// The object (namespace, link, address, route) is not there.
    Missing,
    /// It is there but differs from the spec (kind, MAC, MTU, state…).
    Mismatch,
    /// The source (or the router) has no resolved neighbour entry for the
    /// next hop: ARP/NDP got no answer.
    NoNeighbourEntry,
    /// The neighbour was resolved but no echo reply came back.
    NoEchoReply,
    /// The target answered at another hop count than expected.
    WrongHopCount,
}

impl Stage {
    /// How the report writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Missing => "missing",
            Stage::Mismatch => "mismatch",
            Stage::NoNeighbourEntry => "no neighbour entry",
            Stage::NoEchoReply => "no echo reply",
            Stage::WrongHopCount => "wrong hop count",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What kind of check.
    pub kind: CheckKind,
    /// Where it was made from (namespace, endpoint, link).
    pub from: String,
    /// What it was about.
    pub to: String,
    /// What the spec says.
    pub expected: String,
    /// What was seen.
    pub observed: String,
    /// Whether they agree.
    pub ok: bool,
    /// Where it failed (`None` when it passed).
    pub stage: Option<Stage>,
}

impl Check {
    /// A check that passed when `ok`, else failed at `stage`.
    pub(crate) fn new(
        kind: CheckKind,
        from: String,
        to: String,
        expected: String,
        observed: String,
        ok: bool,
        stage: Stage,
    ) -> Self {
        Check { kind, from, to, expected, observed, ok, stage: (!ok).then_some(stage) }
    }
}

/// Everything `verify` checked.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The topology's name.
    pub topology: String,
    /// Which probes were sent.
    pub plan: CheckPlan,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

impl VerifyReport {
    /// Whether every check passed (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = |pick: fn(&Check) -> &str, head: &str| {
            self.checks.iter().map(|c| pick(c).chars().count()).max().unwrap_or(0).max(head.len())
        };
        let (wf, wt, we) = (w(|c| &c.from, "FROM"), w(|c| &c.to, "TO"), w(|c| &c.expected, "EXPECTED"));
        writeln!(f, "verify {}: {} check plan, {} checks", self.topology, self.plan, self.checks.len())?;
        writeln!(f, "{:<9} {:<wf$} {:<wt$} {:<we$} {:<4} OBSERVED", "CHECK", "FROM", "TO", "EXPECTED", "OK")?;
        for c in &self.checks {
            writeln!(
                f,
                "{:<9} {:<wf$} {:<wt$} {:<we$} {:<4} {}",
                c.kind.to_string(),
                c.from,
                c.to,
                c.expected,
                if c.ok { "ok" } else { "FAIL" },
                match c.stage {
                    Some(s) if !c.observed.starts_with(s.as_str()) => format!("{s}: {}", c.observed),
                    _ => c.observed.clone(),
                }
            )?;
        }
        let failed = self.failures().count();
        writeln!(
            f,
            "topology {}: {} checks, {} passed, {failed} failed",
            self.topology,
            self.checks.len(),
            self.checks.len() - failed
        )
    }
}
