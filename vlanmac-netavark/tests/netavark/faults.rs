//! Faults: a setup that fails at any of its netlink writes leaves nothing,
//! and a setup killed with SIGKILL at any moment is converged by the
//! teardown netavark sends after it.

use std::time::Duration;

use serde_json::{json, Value};

use crate::{common::*, support::*};

/// Fails setup at its 1st, 2nd, ... netlink write until one succeeds;
/// after each failure nothing of it is left: no link in the container or on
/// the host, no record. Returns how many writes a setup makes.
pub fn each_failed_write_leaves_nothing(host: &Host, net: &Value, host_links: &[&str]) -> usize {
    let pod = TestNs::new("nvfault");
    let ex = exec("c1", net, &["10.88.0.2"]);
    for k in 1.. {
        let out = host.plugin_env(&["setup", &netns_path(&pod)], &ex, &[("VLANMAC_FAULT_FAIL_WRITE", &k.to_string())]);
        if out.status == 0 {
            host.teardown(&pod, &ex).ok();
            assert_eq!(host.links(), host_links);
            return k - 1;
        }
        let e = out.error();
        assert!(e.contains("injected"), "write {k}: {e}");
        assert_eq!(link_names(pod.name.as_str()), ["lo"], "write {k} failed: {e}");
        assert_eq!(host.links(), host_links, "write {k} failed: {e}");
        assert!(host.records().is_empty(), "write {k}: {:?}", host.records());
        assert!(k < 50, "setup never succeeded");
    }
    unreachable!()
}

#[test]
fn a_setup_failing_at_any_write_leaves_nothing() {
    let host = Host::new("nvflt");
    let net = network("lan", "10.88.0.0/16", json!({}));
    let writes = each_failed_write_leaves_nothing(&host, &net, &["lo", "trunk0"]);
    assert!(writes >= 3, "a setup makes the link, renames it, configures it: {writes}");
}

/// Kills setup after 0, 1, 2, ... ms; teardown (what netavark runs after a
/// failed setup) then leaves nothing, and the next setup works.
pub fn killed_setups_converge(host: &Host, net: &Value, host_links: &[&str]) {
    let pod = TestNs::new("nvkill");
    let ex = exec("c1", net, &["10.88.0.2"]);
    let path = netns_path(&pod);
    for ms in [0u64, 1, 2, 3, 5, 8, 13, 21, 34] {
        let out = host.plugin_killed(&["setup", &path], &ex, Duration::from_millis(ms));
        host.teardown(&pod, &ex).ok();
        assert_eq!(link_names(pod.name.as_str()), ["lo"], "killed after {ms} ms ({})", out.status);
        assert_eq!(host.links(), host_links, "killed after {ms} ms");
        assert!(host.records().is_empty(), "killed after {ms} ms: {:?}", host.records());
        // And the next setup works.
        host.setup(&pod, &ex).ok();
        assert!(pod.addrs("eth0").contains(&"10.88.0.2/16".to_string()));
        host.teardown(&pod, &ex).ok();
    }
}

#[test]
fn a_setup_killed_at_any_moment_is_converged_by_teardown() {
    let host = Host::new("nvkil");
    killed_setups_converge(&host, &network("lan", "10.88.0.0/16", json!({})), &["lo", "trunk0"]);
}
