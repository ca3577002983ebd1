//! Topologies with Docker in them, against the real engine.

use crate::{docker_common::*, topo_common::*};
use vlanmac::{
    docker::Docker,
    topology::{self, Options},
    topology::{ContainerRuntime, Engine},
    verify::{CheckKind, CheckPlan},
};

/// Untagged (runs on this kernel): container A on a Docker network,
/// container B attached directly (its network is not a Docker one), and a
/// namespace endpoint C sharing A's parent; a lab router routes between.
#[tokio::test]
async fn docker_networks_direct_attachments_and_namespaces_together() {
    let Some(env) = docker_env("docker_networks_direct_attachments_and_namespaces_together").await else { return };
    let a = env.container("ta");
    let b = env.container("tb");
    let p = unique("dt");
    let (n1, n2, trunk) = (format!("{p}n1"), format!("{p}n2"), format!("{p}t"));
    let yaml = format!(
        r#"
name: {p}
namespace: {ns}
lab: {{ trunk: {trunk}, router: {p}-rtr }}
networks:
  {n1}:
    parent: {trunk}
    docker: true
    subnets: [ {{ subnet: 10.110.0.0/24, gateway: 10.110.0.1 }}, {{ subnet: "2001:db8:110::/64", gateway: "2001:db8:110::1" }} ]
  {n2}:
    parent: {trunk}
    subnets: [ {{ subnet: 10.111.0.0/24, gateway: 10.111.0.1 }} ]
endpoints:
  a: {{ container: {ca}, attach: [ {{ network: {n1}, ipv4: 10.110.0.2, ipv6: "2001:db8:110::2" }} ] }}
  b: {{ container: {cb}, attach: [ {{ network: {n2}, ipv4: 10.111.0.2 }} ] }}
  {p}-c: {{ attach: [ {{ network: {n1}, ipv4: 10.110.0.3 }} ] }}
"#,
        ns = env.netns,
        ca = a.name,
        cb = b.name,
    );
    let t = topology::from_yaml(&yaml, "x").unwrap();
    let names = vec![env.netns.clone(), format!("{p}-rtr"), format!("{p}-c")];
    let before = snapshot_scoped(&names, &env.netns, &p);
    let opts = Options::default();
    let _guard = DockerTopoGuard(&env, t.clone());
    let engine = Engine::with_runtime(t.clone(), Docker::with(env.adapter.clone()));
    let res = engine.apply(&opts).await.unwrap();
    assert!(res.changed);
    // Docker's part of the result: the network made, one container connected.
    let docker: Vec<String> =
        res.changes.iter().filter(|c| c.netns == Docker::NAME).map(|c| c.object.clone()).collect();
    assert_eq!(docker, [format!("network {n1}"), format!("connect {} -> {n1}", a.name)], "{res}");

    // The engine's view: A on the Docker network with its static addresses.
    let view = env.adapter.inspect(&a.name).await.unwrap();
    let e = &view.networks[&n1];
    assert_eq!(e.ip_address.as_deref(), Some("10.110.0.2"));
    assert_eq!(e.global_ipv6_address.as_deref(), Some("2001:db8:110::2"));
    assert_eq!(e.gateway.as_deref(), Some("10.110.0.1"));
    // B was attached directly (not through Docker): Docker does not know it,
    // but the container has it.
    assert!(env.adapter.inspect(&b.name).await.unwrap().networks.contains_key("none"));
    let (_, baddr) = b.exec(&["ip", "addr"]);
    assert!(baddr.contains("10.111.0.2/24"), "{baddr}");

    // Nothing left to do, on either side.
    let plan = engine.plan(&opts).await.unwrap();
    assert!(plan.is_empty(), "{plan}");

    let report = engine.verify(&Options { check_plan: CheckPlan::Mesh, ..opts.clone() }).await.unwrap();
    let hop = |from: &str, to: &str| {
        report
            .checks
            .iter()
            .find(|c| c.kind == CheckKind::Hops && c.from == from && c.to.ends_with(to))
            .map(|c| c.observed.clone())
    };
    assert!(report.passed(), "{report}");
    assert_eq!(hop("a", " 10.110.0.3").as_deref(), Some("1 hop"), "{report}");
    assert_eq!(hop("a", " 10.111.0.2").as_deref(), Some("2 hops via 10.110.0.1"), "{report}");

    let down = engine.down(&opts).await.unwrap();
    assert!(down.removed.iter().any(|l| l == &format!("docker network rm {n1}")), "{down}");
    assert!(down.removed.len() > 2, "{down}");
    assert!(env.adapter.inspect_network(&n1).await.unwrap().is_none());
    assert_eq!(snapshot_scoped(&names, &env.netns, &p), before);
    // The containers themselves stay; B's direct interface went with down
    // (it carried the topology's mark).
    let (_, baddr) = b.exec(&["ip", "addr"]);
    assert!(!baddr.contains("10.111.0.2"), "{baddr}");
}

/// A relay to the real engine's socket that can be cut: every connection,
/// open or new, then dies — dockerd gone in the middle of an apply.
struct CuttableEngine {
    path: std::path::PathBuf,
    cut: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
}

impl CuttableEngine {
    fn start(real: &str) -> CuttableEngine {
        let real = real.trim_start_matches("unix://").to_string();
        let path = std::env::temp_dir().join(format!("vlanmac-relay-{}.sock", unique("r")));
        let _ = std::fs::remove_file(&path);
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let (cut, _) = tokio::sync::watch::channel(false);
        let cut = std::sync::Arc::new(cut);
        let c = cut.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut stop = c.subscribe();
                if *stop.borrow() {
                    continue; // refused: dropped at once
                }
                let real = real.clone();
                tokio::spawn(async move {
                    let Ok(mut engine) = tokio::net::UnixStream::connect(&real).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut engine) => {}
                        _ = stop.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        CuttableEngine { path, cut }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.path.display())
    }
}

impl Drop for CuttableEngine {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Container `a` on the Docker network `{p}n1` (parent `{p}t`, the lab
/// router's trunk, in dockerd's namespace `ns`) at 10.`net`.0.2, and the
/// namespace endpoint `{p}-c` at 10.`net`.0.3.
fn docker_and_namespace_yaml(p: &str, ns: &str, container: &str, net: u8) -> String {
    let (n1, trunk) = (format!("{p}n1"), format!("{p}t"));
    format!(
        "name: {p}\nnamespace: {ns}\nlab: {{ trunk: {trunk}, router: {p}-rtr }}\nnetworks:\n  {n1}:\n    parent: {trunk}\n    docker: true\n    subnets: [ {{ subnet: 10.{net}.0.0/24, gateway: 10.{net}.0.1 }} ]\nendpoints:\n  a: {{ container: {container}, attach: [ {{ network: {n1}, ipv4: 10.{net}.0.2 }} ] }}\n  {p}-c: {{ attach: [ {{ network: {n1}, ipv4: 10.{net}.0.3 }} ] }}\n"
    )
}

/// dockerd stops in the middle of an apply (after the kernel part, before
/// the Docker networks): a typed Docker error, the kernel part taken down
/// again, nothing left in Docker; with the engine back, a rerun converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dockerd_gone_during_apply_is_a_docker_error_and_a_rerun_converges() {
    let Some(env) = docker_env("dockerd_gone_during_apply_is_a_docker_error_and_a_rerun_converges").await else {
        return;
    };
    let a = env.container("ga");
    let p = unique("dg");
    let n1 = format!("{p}n1");
    let yaml = docker_and_namespace_yaml(&p, &env.netns, &a.name, 112);
    let t = topology::from_yaml(&yaml, "x").unwrap();
    let names = vec![env.netns.clone(), format!("{p}-rtr"), format!("{p}-c")];
    let before = snapshot_scoped(&names, &env.netns, &p);
    let _guard = DockerTopoGuard(&env, t.clone());

    let relay = CuttableEngine::start(&env.host);
    let flaky = vlanmac::docker::DockerAdapter::open_at(&relay.host()).await.unwrap();
    let cut = relay.cut.clone();
    let progress: vlanmac::topology::Progress = std::sync::Arc::new(move |_, _, _| {
        cut.send_replace(true);
    });
    let opts = Options { progress: Some(progress), ..Default::default() };
    let err = Engine::with_runtime(t.clone(), Docker::with(flaky)).apply(&opts).await.unwrap_err();
    assert!(
        matches!(
            &err,
            vlanmac::topology::Error::Runtime { source, .. }
                if matches!(
                    source.downcast_ref::<vlanmac::docker::Error>(),
                    Some(vlanmac::docker::Error::Docker { .. } | vlanmac::docker::Error::Unreachable { .. })
                )
        ),
        "{err:?}"
    );
    assert_eq!(snapshot_scoped(&names, &env.netns, &p), before, "the kernel part was not taken down");
    assert!(env.adapter.inspect_network(&n1).await.unwrap().is_none());

    let engine = Engine::with_runtime(t.clone(), Docker::with(env.adapter.clone()));
    let res = engine.apply(&Options::default()).await.unwrap();
    assert!(res.changed);
    let plan = engine.plan(&Options::default()).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    engine.down(&Options::default()).await.unwrap();
    assert_eq!(snapshot_scoped(&names, &env.netns, &p), before);
}

/// A container stopped after apply: verify still reports on everything,
/// the container's checks failed as missing, the namespace endpoint's
/// passing; down still works.
#[tokio::test]
async fn a_stopped_container_is_a_failed_check_not_an_error() {
    let Some(env) = docker_env("a_stopped_container_is_a_failed_check_not_an_error").await else { return };
    let a = env.container("sa");
    let p = unique("ds");
    let yaml = docker_and_namespace_yaml(&p, &env.netns, &a.name, 113);
    let t = topology::from_yaml(&yaml, "x").unwrap();
    let names = vec![env.netns.clone(), format!("{p}-rtr"), format!("{p}-c")];
    let before = snapshot_scoped(&names, &env.netns, &p);
    let _guard = DockerTopoGuard(&env, t.clone());
    let engine = Engine::with_runtime(t.clone(), Docker::with(env.adapter.clone()));
    engine.apply(&Options::default()).await.unwrap();
    let good = engine.verify(&Options::default()).await.unwrap();
    assert!(good.passed(), "{good}");

    let (ok, _, err) = env.cli(&["stop", "-t", "0", &a.name]);
    assert!(ok, "{err}");
    let report = engine.verify(&Options::default()).await.unwrap();
    assert!(!report.passed());
    assert_eq!(report.checks.len(), good.checks.len(), "the report is whole:\n{report}");
    let label = format!("container:{}", a.name);
    assert!(report.failures().any(|c| c.from == label && c.to == "namespace" && c.observed == "missing"), "{report}");
    // The namespace endpoint's own checks still pass (its ring peer is
    // the stopped container: that ping fails).
    let c = format!("{p}-c");
    assert!(report.checks.iter().any(|x| x.from == c && x.to.starts_with("gateway") && x.ok), "{report}");
    assert!(report.checks.iter().filter(|x| x.from.starts_with(&format!("{c}/"))).all(|x| x.ok), "{report}");

    engine.down(&Options::default()).await.unwrap();
    assert_eq!(snapshot_scoped(&names, &env.netns, &p), before);
}
