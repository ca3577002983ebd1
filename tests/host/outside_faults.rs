//! Faults from outside, in the middle of an apply: the parent deleted, the
//! target namespace deleted, a same-named link of another kind in the way.
//! Each gives a clear typed error (or an apply that still holds), never a
//! panic or a leak, and a rerun of `apply` converges.

use std::sync::Arc;

use vlanmac::{
    topology::{Options, Progress},
    Error, Shared,
};

use crate::{common::*, topo_common::*};

/// Runs `sabotage` once, when apply reaches its first netlink change (the
/// namespaces exist by then; no link has been made).
fn at_first_link_change(sabotage: impl Fn() + Send + Sync + 'static) -> Options {
    let fired = std::sync::atomic::AtomicBool::new(false);
    let progress: Progress = Arc::new(move |_, _, change| {
        let text = change.to_string();
        if !text.contains(" netns ") && !fired.swap(true, std::sync::atomic::Ordering::SeqCst) {
            sabotage();
        }
    });
    Options { shared: Shared::default(), progress: Some(progress), ..Default::default() }
}

fn converges(t: &vlanmac::topology::Topology, rt: &tokio::runtime::Runtime) {
    rt.block_on(t.apply(&Options::default())).unwrap_or_else(|e| panic!("rerun: {e}"));
    let plan = rt.block_on(t.plan(&Options::default())).unwrap();
    assert!(plan.is_empty(), "rerun did not converge:\n{plan}");
}

#[test]
fn parent_deleted_during_apply_is_not_found_and_rolled_back() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let host = TestNs::new("pdh");
    let make_trunk = || {
        host.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1"]);
        host.ip(&["link", "set", "trunk0", "up"]);
        host.ip(&["link", "set", "trunk1", "up"]);
    };
    make_trunk();
    let p = format!("vt{}pd", std::process::id());
    let t = topo(&format!(
        "name: {p}\nnamespace: {h}\nnetworks:\n  lan: {{ parent: trunk0, subnets: [ {{ subnet: 10.79.0.0/24, gateway: 10.79.0.1 }} ] }}\nendpoints:\n  {p}-a: {{ attach: [ {{ network: lan, ipv4: 10.79.0.2 }} ] }}\n  {p}-b: {{ attach: [ {{ network: lan }} ] }}\n",
        h = host.name
    ));
    let _guard = TopoGuard(t.clone());
    let names = namespaces_of(&t);
    let hostname = host.name.to_string();
    let opts = at_first_link_change(move || {
        run_ip(&["-n", &hostname, "link", "del", "trunk0"]);
    });
    let err = rt.block_on(t.apply(&opts)).unwrap_err();
    let Error::Apply { source, rollback, .. } = &err else { panic!("not an Apply error: {err}") };
    assert!(matches!(**source, Error::NotFound(_)), "{err}");
    assert!(source.to_string().contains("trunk0"), "{err}");
    assert!(rollback.is_empty(), "{rollback:?}");
    // The endpoint namespaces the apply made went with the rollback.
    let listed = run_ip(&["netns", "list"]);
    for n in names.iter().filter(|n| n.starts_with(&p)) {
        assert!(!listed.lines().any(|l| l.split(' ').next() == Some(n)), "{n} left behind");
    }
    make_trunk();
    converges(&t, &rt);
}

#[test]
fn target_namespace_deleted_during_apply_then_rerun_converges() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let t = topo(&flat_yaml("nsdel"));
    let _guard = TopoGuard(t.clone());
    let victim = t.endpoints[0].name.clone();
    let opts = at_first_link_change(move || {
        run_ip(&["netns", "del", &victim]);
    });
    // The apply holds the namespace open, so it may finish inside the
    // now-unnamed namespace, or fail cleanly; either way, no panic.
    match rt.block_on(t.apply(&opts)) {
        Ok(_) => {}
        Err(Error::Apply { rollback, .. }) => assert!(rollback.is_empty(), "{rollback:?}"),
        Err(other) => panic!("not an Apply error: {other}"),
    }
    converges(&t, &rt);
    let report = rt.block_on(t.verify(&Options::default())).unwrap();
    assert!(report.passed(), "{report}");
}

#[test]
fn a_link_of_another_kind_in_the_way_is_a_conflict_with_no_write() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ep = TestNs::new("kind");
    ep.ip(&["link", "add", "eth0", "type", "veth", "peer", "name", "other0"]);
    let p = format!("vt{}kd", std::process::id());
    let host = TestNs::new("kindh");
    host.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1"]);
    let t = topo(&format!(
        "name: {p}\nnamespace: {h}\nnetworks:\n  lan: {{ parent: trunk0, subnets: [ {{ subnet: 10.80.0.0/24 }} ] }}\nendpoints:\n  e: {{ netns: {e}, attach: [ {{ network: lan, ipv4: 10.80.0.2 }} ] }}\n",
        h = host.name,
        e = ep.name
    ));
    let _guard = TopoGuard(t.clone());
    let names = namespaces_of(&t);
    let before = snapshot(&names);
    let shared = Shared::default();
    let err =
        rt.block_on(t.apply(&Options { shared: shared.clone(), progress: None, ..Default::default() })).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err}");
    assert!(err.to_string().contains("eth0"), "{err}");
    assert_eq!(shared.stats.writes(), 0, "a conflict found by the plan must not write");
    assert_eq!(snapshot(&names), before);
    // Out of the way, the rerun converges.
    ep.ip(&["link", "del", "eth0"]);
    converges(&t, &rt);
}
