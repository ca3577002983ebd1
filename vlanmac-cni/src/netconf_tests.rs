//! Bad network configurations: each gives its error code and a message
//! that starts with the field it is about. None of them reaches the kernel
//! (parsing does no I/O).

use serde_json::{json, Value};

use crate::{error::Code, netconf::parse, version::Version};

fn base() -> Value {
    json!({
        "cniVersion": "1.1.0",
        "name": "vlan100",
        "type": "vlanmac-cni",
        "master": "eth0",
        "vlan": 100,
        "ipam": { "type": "host-local", "subnet": "10.1.0.0/24" }
    })
}

fn with(field: &str, v: Value) -> Value {
    let mut b = base();
    b[field] = v;
    b
}

fn without(field: &str) -> Value {
    let mut b = base();
    b.as_object_mut().unwrap().remove(field);
    b
}

#[test]
fn a_good_configuration_parses() {
    let c = parse(base().to_string().as_bytes()).unwrap();
    assert_eq!(c.version, Version::V110);
    assert_eq!(c.vlan.map(|v| v.get()), Some(100));
    assert_eq!(c.ipam_type.as_deref(), Some("host-local"));
    let c = parse(
        json!({"cniVersion": "0.4.0", "name": "n", "type": "vlanmac-cni", "driver": "ipvlan", "ipvlanMode": "l3",
               "args": {"anything": [1, 2]}, "runtimeConfig": {"mac": "02:00:00:00:00:05", "ips": ["10.0.0.5/24"], "portMappings": []}})
        .to_string()
        .as_bytes(),
    );
    assert!(c.is_ok(), "{c:?}");
}

#[test]
fn bad_configurations_name_the_field_with_the_spec_code() {
    let cases: Vec<(Value, Code, &str)> = vec![
        (with("vlan", json!(5000)), Code::InvalidConfig, "vlan: 5000 is outside 1-4094"),
        (with("vlan", json!(0)), Code::InvalidConfig, "vlan: 0"),
        (with("vlan", json!(4095)), Code::InvalidConfig, "vlan: 4095"),
        (with("vlan", json!(-1)), Code::InvalidConfig, "vlan: -1"),
        (with("vlan", json!("100")), Code::InvalidConfig, "vlan: 100 must be a number"),
        (with("vlan", json!(10.5)), Code::InvalidConfig, "vlan: 10.5"),
        (with("vlanProtocol", json!("802.1x")), Code::InvalidConfig, "vlanProtocol: 802.1x"),
        (with("vlanProtocol", json!(8100)), Code::InvalidConfig, "vlanProtocol: 8100 must be a string"),
        (with("master", json!("")), Code::InvalidConfig, "master"),
        (with("master", json!("a/b")), Code::InvalidConfig, "master: a/b"),
        (with("master", json!("sixteen-bytes-xx")), Code::InvalidConfig, "master: sixteen-bytes-xx"),
        (with("master", json!("eth 0")), Code::InvalidConfig, "master"),
        (with("master", json!(7)), Code::InvalidConfig, "master: 7 must be a string"),
        (with("mode", json!("source")), Code::InvalidConfig, "mode: source is not bridge"),
        (with("mode", json!("bridges")), Code::InvalidConfig, "mode: bridges"),
        (with("driver", json!("bridge")), Code::InvalidConfig, "driver: bridge is not macvlan or ipvlan"),
        (with("ipvlanMode", json!("l3")), Code::InvalidConfig, "ipvlanMode: is for driver ipvlan"),
        (
            {
                let mut b = with("driver", json!("ipvlan"));
                b["ipvlanMode"] = json!("l4");
                b
            },
            Code::InvalidConfig,
            "ipvlanMode: l4",
        ),
        (
            {
                let mut b = with("driver", json!("ipvlan"));
                b["mode"] = json!("bridge");
                b
            },
            Code::InvalidConfig,
            "mode: is for driver macvlan",
        ),
        (
            {
                let mut b = with("driver", json!("ipvlan"));
                b["mac"] = json!("02:00:00:00:00:01");
                b
            },
            Code::InvalidConfig,
            "mac:",
        ),
        (with("mtu", json!(40)), Code::InvalidConfig, "mtu: 40"),
        (with("mtu", json!(70000)), Code::InvalidConfig, "mtu: 70000"),
        (with("mtu", json!("1500")), Code::InvalidConfig, "mtu: 1500 must be a number"),
        (with("mac", json!("01:00:5e:00:00:01")), Code::InvalidConfig, "mac: 01:00:5e:00:00:01"),
        (with("mac", json!("00:00:00:00:00:00")), Code::InvalidConfig, "mac: 00:00:00:00:00:00"),
        (with("mac", json!("02:00:00:00:01")), Code::InvalidConfig, "mac: 02:00:00:00:01"),
        (
            {
                let mut b = with("mac", json!("02:00:00:00:00:01"));
                b["macFromIP"] = json!(true);
                b
            },
            Code::InvalidConfig,
            "macFromIP: cannot be used together with mac",
        ),
        (with("macFromIP", json!("yes")), Code::InvalidConfig, "macFromIP: yes must be true or false"),
        (with("ipam", json!({"subnet": "10.0.0.0/8"})), Code::InvalidConfig, "ipam.type: is required"),
        (with("ipam", json!({"type": "../bin/sh"})), Code::InvalidConfig, "ipam.type: ../bin/sh"),
        (with("ipam", json!("host-local")), Code::InvalidConfig, "ipam: host-local must be an object"),
        (with("dns", json!(["8.8.8.8"])), Code::InvalidConfig, "dns:"),
        (with("runtimeConfig", json!({"mac": "zz"})), Code::InvalidConfig, "runtimeConfig.mac: zz"),
        (with("runtimeConfig", json!({"ips": ["10.0.0.300/24"]})), Code::InvalidConfig, "runtimeConfig.ips[0]"),
        (with("runtimeConfig", json!({"ips": "10.0.0.3/24"})), Code::InvalidConfig, "runtimeConfig.ips"),
        (with("capabilities", json!({"ips": "yes"})), Code::InvalidConfig, "capabilities.ips"),
        (
            with("cni.dev/valid-attachments", json!([{"ifname": "eth0"}])),
            Code::InvalidConfig,
            "cni.dev/valid-attachments[0].containerID",
        ),
        (with("cni.dev/valid-attachments", json!({})), Code::InvalidConfig, "cni.dev/valid-attachments"),
        (with("name", json!("-net")), Code::InvalidConfig, "name: -net"),
        (with("name", json!("a b")), Code::InvalidConfig, "name: \"a b\""),
        (without("name"), Code::InvalidConfig, "name: is required"),
        (without("type"), Code::InvalidConfig, "type: is required"),
        (without("cniVersion"), Code::InvalidConfig, "cniVersion: is required"),
        (with("cniVersion", json!("0.3.1")), Code::IncompatibleVersion, "cniVersion: 0.3.1"),
        (with("cniVersion", json!("2.0.0")), Code::IncompatibleVersion, "cniVersion: 2.0.0"),
        (with("cniVersions", json!("1.1.0")), Code::InvalidConfig, "cniVersions"),
        (
            {
                let mut b = with("cniVersion", json!("9.9.9"));
                b["cniVersions"] = json!(["9.9.9", "1.0.0"]);
                b
            },
            Code::IncompatibleVersion,
            "cniVersion: 9.9.9 is not supported",
        ),
        (with("vlan", Value::Null), Code::InvalidConfig, "vlan: null is not a value"),
        (with("mode", Value::Null), Code::InvalidConfig, "mode: null is not a value"),
        (with("mac", json!("02:00:00:00:00:1")), Code::InvalidConfig, "mac: 02:00:00:00:00:1 is not six two-digit"),
        (with("runtimeConfig", json!({"mac": "2:0:0:0:0:1"})), Code::InvalidConfig, "runtimeConfig.mac: 2:0:0:0:0:1"),
        (with("colour", json!("blue")), Code::UnsupportedField, "colour: unknown field"),
        (with("linkInContainer", json!(true)), Code::UnsupportedField, "linkInContainer: unknown field"),
        (with("ipMasq", json!(true)), Code::UnsupportedField, "ipMasq:"),
        (
            without("vlan")
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("vlanProtocol".into(), json!("802.1ad"));
                    Value::Object(o)
                })
                .unwrap(),
            Code::InvalidConfig,
            "vlanProtocol: needs vlan",
        ),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for (conf, code, starts) in &cases {
        let e = parse(conf.to_string().as_bytes()).expect_err(&conf.to_string());
        assert_eq!(e.code, *code, "{conf}: {e}");
        assert!(e.msg.starts_with(starts), "{conf}: {:?} does not start with {starts:?}", e.msg);
    }
    for garbage in ["", "{", "[1,2]", "null", "\"x\"", "{\"cniVersion\": 1.0"] {
        let e = parse(garbage.as_bytes()).unwrap_err();
        assert_eq!(e.code, Code::Decode, "{garbage}: {e}");
    }
}

#[test]
fn nothing_is_guessed_but_mtu_0_is_the_parents() {
    // A key given twice is refused wherever it is, naming its path.
    let twice = r#"{"cniVersion":"1.1.0","name":"n","type":"vlanmac-cni","vlan":10,"vlan":null}"#;
    let e = parse(twice.as_bytes()).unwrap_err();
    assert_eq!((e.code, e.msg.as_str()), (Code::InvalidConfig, "vlan: is given twice"));
    let nested = r#"{"cniVersion":"1.1.0","name":"n","type":"vlanmac-cni","ipam":{"type":"a","type":"b"}}"#;
    assert_eq!(parse(nested.as_bytes()).unwrap_err().msg, "ipam.type: is given twice");
    // The spec's own fields may be null (libcni writes some so).
    assert!(parse(with("dns", Value::Null).to_string().as_bytes()).is_ok());
    // 0: the parent's MTU, as the reference plugin reads it.
    assert_eq!(parse(with("mtu", json!(0)).to_string().as_bytes()).unwrap().mtu, None);
    assert_eq!(parse(with("mtu", json!(1400)).to_string().as_bytes()).unwrap().mtu.map(|m| m.get()), Some(1400));
    // cniVersion is what runs; cniVersions is the runtime's list to pick from.
    let mut b = with("cniVersion", json!("1.0.0"));
    b["cniVersions"] = json!(["1.1.0", "1.0.0"]);
    assert_eq!(parse(b.to_string().as_bytes()).unwrap().version, Version::V100);
    let e = parse(b"{\"cniVersion\": ").unwrap_err();
    assert_eq!(e.code, Code::Decode);
}
