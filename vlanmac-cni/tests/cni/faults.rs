//! An ADD failing at each of its netlink writes in turn (the fault
//! injector's `VLANMAC_FAULT_FAIL_WRITE=K`) leaves nothing: no link in the
//! pod, no VLAN it made, no IPAM lease, no record, no lock file.

use serde_json::{json, Value};

use crate::{common::*, support::*};

/// ADDs with a fault at write 1, 2, … until one succeeds; after each
/// failure the runtime namespace, the pod, the leases and the state are as
/// before. Returns how many faults were injected.
pub fn add_fails_cleanly_at_every_write(rt: &Rt, conf: &Value, name: &str) -> u64 {
    let pod = TestNs::new("pf");
    let before = (rt.links(), link_names(pod.name.as_str()));
    let mut k = 1;
    loop {
        let n = k.to_string();
        let out = rt.exec_env(
            PLUGIN,
            "ADD",
            conf,
            "cf",
            Some(pod.name.as_str()),
            "net1",
            &[("VLANMAC_FAULT_FAIL_WRITE", &n)],
        );
        if out.status == 0 {
            break;
        }
        assert!(out.msg().contains("fault injected"), "write {k}: {}", out.text);
        assert_eq!((rt.links(), link_names(pod.name.as_str())), before, "write {k}: something was left: {}", out.text);
        assert!(rt.leases(name).is_empty(), "write {k}: lease left {:?}", rt.leases(name));
        assert!(rt.state_files().is_empty(), "write {k}: state left {:?}", rt.state_files());
        k += 1;
        assert!(k < 100, "the ADD never succeeded");
    }
    rt.exec(PLUGIN, "DEL", conf, "cf", Some(pod.name.as_str()), "net1").ok();
    assert_eq!((rt.links(), link_names(pod.name.as_str())), before);
    k - 1
}

#[test]
fn an_add_failing_at_each_netlink_write_leaves_nothing() {
    if !have_reference() {
        assert!(!kernel_required(), "the reference plugins (host-local) are not installed");
        record_skip("an_add_failing_at_each_netlink_write_leaves_nothing", "host-local is not installed");
        return;
    }
    let rt = Rt::new("flt");
    let conf = rt.conf("flt", "10.61.0.0/24", json!({ "mtu": 1450 }));
    let faults = add_fails_cleanly_at_every_write(&rt, &conf, "flt");
    assert!(faults >= 3, "only {faults} writes");
    println!("cni: ADD failed at each of its {faults} netlink writes, nothing left each time");
}
