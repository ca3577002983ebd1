//! What the plugin benches share (vlanmac-cni's ADD+DEL, the netavark
//! plugin's setup+teardown): N containers' pairs of invocations timed,
//! `par` at a time, and the table of medians against a reference row.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use super::median;

/// Runs `pair(i)` for i in 0..n, `par` at a time: each pair's time, and
/// the wall time of all.
pub fn run_pairs(n: usize, par: usize, pair: impl Fn(usize) + Sync) -> (Vec<Duration>, Duration) {
    let t0 = Instant::now();
    let next = AtomicUsize::new(0);
    let times = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..par {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let start = Instant::now();
                pair(i);
                times.lock().unwrap_or_else(|p| p.into_inner()).push(start.elapsed());
            });
        }
    });
    (times.into_inner().unwrap_or_default(), t0.elapsed())
}

/// One row: its label, and per round the median pair and the wall time.
pub struct Row {
    pub label: String,
    pub pairs: Vec<Duration>,
    pub walls: Vec<Duration>,
}

impl Row {
    pub fn new(label: impl Into<String>) -> Row {
        Row { label: label.into(), pairs: Vec::new(), walls: Vec::new() }
    }
}

/// Each way (a label and how many at a time) measured `rounds` times
/// over `n` containers, the ways interleaved within each round so that a
/// slow spell of the machine falls on all; `pair(way, i)` runs one
/// container's pair of invocations.
pub fn measure(rounds: usize, n: usize, ways: &[(String, usize)], pair: impl Fn(usize, usize) + Sync) -> Vec<Row> {
    let mut rows: Vec<Row> = ways.iter().map(|(label, par)| Row::new(format!("{label}, {par} at a time"))).collect();
    for _ in 0..rounds {
        for (w, (row, (_, par))) in rows.iter_mut().zip(ways).enumerate() {
            let (p, wall) = run_pairs(n, *par, |i| pair(w, i));
            row.pairs.push(median(p));
            row.walls.push(wall);
        }
    }
    rows
}

/// Prints `| {first} | median {pair} | vs {against} | wall, all {n} | vs
/// {against} |`, each row against row `reference(i)`.
pub fn print_ratios(
    first: &str,
    pair: &str,
    against: &str,
    n: usize,
    rows: &[Row],
    reference: impl Fn(usize) -> usize,
) {
    println!("| {first} | median {pair} | vs {against} | wall, all {n} | vs {against} |");
    println!("|---|---|---|---|---|");
    for (i, row) in rows.iter().enumerate() {
        let r = &rows[reference(i).min(rows.len() - 1)];
        let (p, w) = (median(row.pairs.clone()), median(row.walls.clone()));
        let pr = p.as_secs_f64() / median(r.pairs.clone()).as_secs_f64().max(1e-9);
        let wr = w.as_secs_f64() / median(r.walls.clone()).as_secs_f64().max(1e-9);
        println!(
            "| {} | {:.1} ms | {pr:.2}x | {:.0} ms | {wr:.2}x |",
            row.label,
            p.as_secs_f64() * 1e3,
            w.as_secs_f64() * 1e3
        );
    }
}
