//! The seed walkthrough through Docker (needs 802.1Q: kernel VM).

use crate::{common::*, docker_common::*, topo_common::*};
use vlanmac::{
    docker::Docker,
    topology::Engine,
    topology::{self, Options},
    verify::{CheckKind, CheckPlan},
};

const SEED_DOCKER: &str = include_str!("../../examples/seed-docker.yaml");

#[tokio::test]
async fn seed_through_docker_end_to_end() {
    if !require(Feature::Vlan8021q, "seed_through_docker_end_to_end").await {
        return;
    }
    let Some(env) = docker_env("seed_through_docker_end_to_end").await else { return };
    let cs = [env.container("c0"), env.container("c1"), env.container("c2")];
    let p = unique("sd");
    let mut yaml = SEED_DOCKER
        .replace("name: seed-docker", &format!("name: {p}\nnamespace: {}", env.netns))
        .replace("router: seed-router", &format!("router: {p}-rtr"));
    for (i, c) in cs.iter().enumerate() {
        yaml = yaml.replace(&format!("container: container{i}"), &format!("container: {}", c.name));
    }
    let t = topology::from_yaml(&yaml, "x").unwrap();
    let names = vec![env.netns.clone(), format!("{p}-rtr")];
    let before = snapshot_scoped(&names, &env.netns, "eth0");
    let opts = Options::default();
    let _guard = DockerTopoGuard(&env, t.clone());
    let engine = Engine::with_runtime(t.clone(), Docker::with(env.adapter.clone()));
    engine.apply(&opts).await.unwrap();
    {
        // docker network inspect: parents eth0.10 and eth0.20, IPv6 on.
        for (net, parent) in [("macvlan10", "eth0.10"), ("macvlan20", "eth0.20")] {
            let (_, out, _) = env.cli(&["network", "inspect", net]);
            let j: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(j[0]["Options"]["parent"], parent);
            assert_eq!(j[0]["EnableIPv6"], true);
        }
        // docker inspect container1, as in the seed.
        let (_, out, _) = env.cli(&["inspect", &cs[1].name]);
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        let nets = &j[0]["NetworkSettings"]["Networks"];
        assert_eq!(nets["macvlan10"]["IPAddress"], "10.0.10.3");
        assert_eq!(nets["macvlan10"]["IPPrefixLen"], 24);
        assert_eq!(nets["macvlan10"]["Gateway"], "10.0.10.1");
        assert_eq!(nets["macvlan10"]["GlobalIPv6Address"], "2001:db8:babe:10::3");
        assert_eq!(nets["macvlan10"]["IPv6Gateway"], "2001:db8:babe:10::1");
        assert_eq!(nets["macvlan10"]["MacAddress"], "02:42:0a:00:0a:03");
        assert_eq!(nets["macvlan20"]["IPAddress"], "10.0.20.3");
        assert_eq!(nets["macvlan20"]["GlobalIPv6Address"], "2001:db8:babe:20::3");
        // Inside container1: eth0 and eth1, the default routes via VLAN 10.
        let (_, addrs) = cs[1].exec(&["ip", "addr"]);
        for a in ["10.0.10.3/24", "2001:db8:babe:10::3/64", "10.0.20.3/24", "2001:db8:babe:20::3/64"] {
            assert!(addrs.contains(a), "{a} missing: {addrs}");
        }
        let (_, r4) = cs[1].exec(&["ip", "route"]);
        assert!(r4.contains("default via 10.0.10.1 dev eth0"), "{r4}");
        let (_, r6) = cs[1].exec(&["ip", "-6", "route"]);
        assert!(r6.contains("default via 2001:db8:babe:10::1 dev eth0"), "{r6}");

        // The full mesh: every traceroute of the walkthrough.
        let report = engine.verify(&Options { check_plan: CheckPlan::Mesh, ..opts.clone() }).await.unwrap();
        assert!(report.passed(), "{report}");
        let hop = |from: &str, to: &str| {
            report
                .checks
                .iter()
                .find(|c| c.kind == CheckKind::Hops && c.from == from && c.to.ends_with(&format!(" {to}")))
                .map(|c| c.observed.clone())
                .unwrap_or_default()
        };
        assert_eq!(hop("container0", "10.0.10.3"), "1 hop");
        assert_eq!(hop("container0", "10.0.20.3"), "2 hops via 10.0.10.1");
        assert_eq!(hop("container0", "10.0.20.4"), "2 hops via 10.0.10.1");
        assert_eq!(report.checks.iter().filter(|c| c.kind == CheckKind::Neighbour && c.ok).count(), 4, "{report}");
    }
    let down = engine.down(&opts).await.unwrap();
    assert!(down.removed.iter().any(|l| l == "docker network rm macvlan10"), "{down}");
    assert_eq!(snapshot_scoped(&names, &env.netns, "eth0"), before, "down left something");
}
