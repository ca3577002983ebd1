//! Concurrency: many topologies applied at once, and the same topology
//! applied twice at once. Everything converges; no EEXIST surfaces.

use vlanmac::topology::Options;

use crate::topo_common::*;

/// 8 flat lab topologies (each its own host, router and endpoint
/// namespaces), applied in parallel on a multi-thread runtime, then taken
/// down in parallel.
#[test]
fn eight_topologies_applied_in_parallel_converge() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    let ts: Vec<_> = (0..8).map(|i| topo(&flat_yaml(&format!("par{i}")))).collect();
    let _guards: Vec<TopoGuard> = ts.iter().cloned().map(TopoGuard).collect();
    let names: Vec<String> = ts.iter().flat_map(namespaces_of).collect();
    let before = snapshot(&names);
    rt.block_on(async {
        let tasks: Vec<_> = ts
            .iter()
            .cloned()
            .map(|t| tokio::spawn(async move { t.apply(&Options::default()).await.map(|r| r.changed) }))
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            let changed = task.await.unwrap().unwrap_or_else(|e| panic!("topology {i}: {e}"));
            assert!(changed);
        }
        for t in &ts {
            let plan = t.plan(&Options::default()).await.unwrap();
            assert!(plan.is_empty(), "{} did not converge:\n{plan}", t.name);
            let report = t.verify(&Options::default()).await.unwrap();
            assert!(report.passed(), "{report}");
        }
        let downs: Vec<_> =
            ts.iter().cloned().map(|t| tokio::spawn(async move { t.down(&Options::default()).await })).collect();
        for d in downs {
            d.await.unwrap().unwrap();
        }
    });
    assert_eq!(snapshot(&names), before);
}

/// The same topology applied twice at the same moment (two tasks, and the
/// CLI racing the library): both succeed, the result is the topology once.
#[test]
fn two_applies_of_one_topology_racing_both_succeed() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let t = topo(&flat_yaml("race"));
    let _guard = TopoGuard(t.clone());
    let names = namespaces_of(&t);
    let before = snapshot(&names);
    for round in 0..3 {
        rt.block_on(async {
            let (a, b) = (t.clone(), t.clone());
            let ta = tokio::spawn(async move { a.apply(&Options::default()).await });
            let tb = tokio::spawn(async move { b.apply(&Options::default()).await });
            let (ra, rb) = (ta.await.unwrap(), tb.await.unwrap());
            let ra = ra.unwrap_or_else(|e| panic!("round {round}, first: {e}"));
            let rb = rb.unwrap_or_else(|e| panic!("round {round}, second: {e}"));
            // One did the work; the other, serialized behind it, found none.
            assert!(ra.changed != rb.changed, "round {round}: {} / {}", ra.changed, rb.changed);
            assert!(t.plan(&Options::default()).await.unwrap().is_empty());
            let report = t.verify(&Options::default()).await.unwrap();
            assert!(report.passed(), "{report}");
        });
        // The CLI (another process) racing the library.
        let file = write_temp(&format!("race{round}.yaml"), &flat_yaml("race"));
        rt.block_on(t.down(&Options::default())).unwrap();
        let cli_run = std::thread::spawn(move || cli(&["apply", file.to_str().unwrap()]));
        let lib = rt.block_on(t.apply(&Options::default()));
        let (code, out, err) = cli_run.join().unwrap();
        assert_eq!(code, 0, "{out}{err}");
        lib.unwrap();
        assert!(rt.block_on(t.plan(&Options::default())).unwrap().is_empty());
        rt.block_on(t.down(&Options::default())).unwrap();
        assert_eq!(snapshot(&names), before, "round {round}");
    }
}
