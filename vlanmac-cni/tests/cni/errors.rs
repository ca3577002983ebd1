//! Failures as the runtime sees them: the spec's error object on stdout,
//! exit 1, the field named; bad input never reaches the kernel.

use serde_json::json;

use crate::{common::*, support::*};

#[test]
fn errors_are_spec_objects_naming_the_field_and_touch_nothing() {
    let rt = Rt::new("err");
    let pod = TestNs::new("px");
    let before = (rt.links(), link_names(pod.name.as_str()));
    let add = |conf: &serde_json::Value| rt.exec(PLUGIN, "ADD", conf, "c1", Some(pod.name.as_str()), "net1");
    let cases = [
        (rt.conf("e", "10.60.0.0/24", json!({ "vlan": 5000 })), 7, "vlan: 5000 is outside 1-4094"),
        (rt.conf("e", "10.60.0.0/24", json!({ "colour": "blue" })), 2, "colour: unknown field"),
        (rt.conf("e", "10.60.0.0/24", json!({ "cniVersion": "0.3.1" })), 1, "cniVersion: 0.3.1"),
        (rt.conf("e", "10.60.0.0/24", json!({ "master": "eth9" })), 7, "master: eth9 does not exist"),
        (rt.conf("e", "10.60.0.0/24", json!({ "mtu": 9000 })), 7, "mtu: 9000 is above the parent trunk0's mtu 1500"),
        (
            rt.conf("e", "10.60.0.0/24", json!({ "ipam": { "type": "no-such-ipam" } })),
            7,
            "ipam.type: no executable no-such-ipam",
        ),
    ];
    for (conf, code, msg) in &cases {
        let out = add(conf);
        assert_eq!(out.status, 1, "{}", out.text);
        assert_eq!(out.code(), *code, "{}", out.text);
        assert!(out.msg().starts_with(msg), "{:?} does not start with {msg:?}", out.msg());
        assert_eq!(out.json["cniVersion"], conf["cniVersion"], "{}", out.text);
    }
    // Not JSON; a bad environment; GC and STATUS need 1.1.0.
    let mut c = std::process::Command::new(ip_path());
    c.args(["netns", "exec", rt.ns.name.as_str(), PLUGIN]).env_clear().env("CNI_COMMAND", "ADD");
    let out = c.output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((out.status.code(), v["code"].as_u64()), (Some(1), Some(4)), "{v}");
    assert!(v["msg"].as_str().unwrap().starts_with("CNI_CONTAINERID"), "{v}");
    let out = rt.exec(PLUGIN, "STATUS", &rt.conf("e", "10.60.0.0/24", json!({})), "", None, "");
    assert_eq!(out.code(), 1, "{}", out.text);
    let out = rt.exec(PLUGIN, "GC", &rt.conf("e", "10.60.0.0/24", json!({ "cniVersion": "1.1.0" })), "", None, "");
    assert!(out.msg().starts_with("cni.dev/valid-attachments: is required"), "{}", out.text);
    let out = rt.exec(
        PLUGIN,
        "STATUS",
        &rt.conf("e", "10.60.0.0/24", json!({ "cniVersion": "1.1.0", "master": "eth9" })),
        "",
        None,
        "",
    );
    assert_eq!(out.code(), 50, "{}", out.text);
    let out = rt.exec(PLUGIN, "STATUS", &rt.conf("e", "10.60.0.0/24", json!({ "cniVersion": "1.1.0" })), "", None, "");
    assert_eq!(out.status, 0, "{}", out.text);
    let out = rt.exec(PLUGIN, "VERSION", &json!({ "cniVersion": "1.0.0" }), "", None, "");
    assert_eq!(out.ok()["supportedVersions"], json!(["0.4.0", "1.0.0", "1.1.0"]));
    // The plugin's own version, whatever was asked (as the reference plugins).
    assert_eq!(out.json["cniVersion"], "1.1.0");
    assert_eq!((rt.links(), link_names(pod.name.as_str())), before, "bad input reached the kernel");
    assert!(rt.state_files().is_empty() && rt.leases("e").is_empty(), "{:?}", rt.state_files());
}
