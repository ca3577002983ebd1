//! Docker at scale, side by side in one run (needs root and the private
//! Docker engine `scripts/bench` starts: `VLANMAC_DOCKER_HOST`,
//! `VLANMAC_DOCKER_NETNS`, `VLANMAC_DOCKER_IMAGE`): N running containers
//! (on `--net none`) put on two macvlan networks with static addresses,
//! three ways, rounds interleaved:
//! - vlanmac's apply of the topology (containers inspected in parallel;
//!   connections one after the other, as the daemon serializes them);
//! - the docker CLI: `docker network create` x2, `docker network connect --ip` xN;
//! - the same Docker API calls one after the other through bollard.
//!
//! Each is undone (untimed) before the next.
//!
//!     cargo bench --bench docker_apply -- [N] [ROUNDS]

mod common;

use std::{collections::HashMap, process::Command, time::Duration};

use bollard::{
    models::{EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig, NetworkConnectRequest, NetworkCreateRequest},
    Docker,
};
use common::*;
use vlanmac::{
    docker::DockerAdapter,
    topology::{self, Engine, Options},
};

struct Env {
    host: String,
    netns: String,
    image: String,
}

impl Env {
    fn docker(&self, args: &[&str]) -> bool {
        let out = Command::new("/usr/bin/docker").env("DOCKER_HOST", &self.host).args(args).output();
        out.is_ok_and(|o| o.status.success())
    }
}

/// Containers and parents made for the bench, removed on drop.
struct Fixture<'a> {
    env: &'a Env,
    containers: Vec<String>,
    parents: Vec<String>,
}

impl Drop for Fixture<'_> {
    fn drop(&mut self) {
        for c in &self.containers {
            self.env.docker(&["rm", "-f", c]);
        }
        for p in &self.parents {
            let _ = Command::new("ip").args(["-n", &self.env.netns, "link", "del", p]).output();
        }
    }
}

fn ip_of(i: usize) -> (usize, String) {
    (i % 2, format!("10.{}.0.{}", 120 + i % 2, i / 2 + 2))
}

/// The reference: the same Docker API calls, one after the other.
async fn sequential(bollard: &Docker, nets: &[String], fx: &Fixture<'_>) {
    for (k, net) in nets.iter().enumerate() {
        let req = NetworkCreateRequest {
            name: net.clone(),
            driver: Some("macvlan".into()),
            options: Some(HashMap::from([("parent".to_string(), fx.parents[k].clone())])),
            ipam: Some(Ipam {
                config: Some(vec![IpamConfig {
                    subnet: Some(format!("10.{}.0.0/24", 120 + k)),
                    gateway: Some(format!("10.{}.0.1", 120 + k)),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        bollard.create_network(req).await.expect("create_network");
    }
    for (i, c) in fx.containers.iter().enumerate() {
        let (k, a) = ip_of(i);
        let settings = EndpointSettings {
            ipam_config: Some(EndpointIpamConfig { ipv4_address: Some(a), ..Default::default() }),
            ..Default::default()
        };
        let req = NetworkConnectRequest { container: c.clone(), endpoint_config: Some(settings) };
        bollard.connect_network(&nets[k], req).await.expect("connect_network");
    }
}

fn main() {
    let n: usize = arg(0, 40);
    let rounds: usize = arg(1, 3).max(1);
    if !is_root() {
        eprintln!("benches/docker_apply: needs root; skipped");
        return;
    }
    let (Ok(host), Ok(netns)) = (std::env::var("VLANMAC_DOCKER_HOST"), std::env::var("VLANMAC_DOCKER_NETNS")) else {
        eprintln!(
            "benches/docker_apply: no private Docker engine (VLANMAC_DOCKER_HOST; scripts/bench starts one); skipped"
        );
        return;
    };
    let image = std::env::var("VLANMAC_DOCKER_IMAGE").unwrap_or_else(|_| "vlanmac-test:busybox".into());
    let env = Env { host, netns, image };
    let tag = format!("vdb{}", std::process::id() % 100000);
    let mut fx = Fixture { env: &env, containers: Vec::new(), parents: Vec::new() };
    // Two parents (Docker takes one untagged macvlan network per parent).
    for k in 0..2 {
        let p = format!("{tag}p{k}");
        let peer = format!("{tag}q{k}");
        let ok = Command::new("ip")
            .args(["-n", &env.netns, "link", "add", &p, "type", "veth", "peer", "name", &peer])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "make parent {p}");
        fx.parents.push(p.clone());
        for l in [&p, &peer] {
            let _ = Command::new("ip").args(["-n", &env.netns, "link", "set", l, "up"]).status();
        }
    }
    for i in 0..n {
        let c = format!("{tag}c{i}");
        assert!(env.docker(&["run", "-d", "--name", &c, "--net", "none", &env.image]), "docker run {c}");
        // Off `none` (Docker connects nothing else to a container on it):
        // every method starts from a container on no network.
        assert!(env.docker(&["network", "disconnect", "none", &c]), "docker network disconnect none {c}");
        fx.containers.push(c);
    }
    let nets: Vec<String> = (0..2).map(|k| format!("{tag}n{k}")).collect();
    let mut yaml = format!("name: {tag}\nnamespace: {}\nnetworks:\n", env.netns);
    for (k, (net, parent)) in nets.iter().zip(&fx.parents).enumerate() {
        yaml.push_str(&format!(
            "  {net}:\n    parent: {parent}\n    docker: true\n    subnets: [ {{ subnet: 10.{}.0.0/24, gateway: 10.{}.0.1 }} ]\n",
            120 + k,
            120 + k
        ));
    }
    yaml.push_str("endpoints:\n");
    for (i, c) in fx.containers.iter().enumerate() {
        let (k, a) = ip_of(i);
        yaml.push_str(&format!("  e{i}: {{ container: {c}, attach: [ {{ network: {}, ipv4: {a} }} ] }}\n", nets[k]));
    }
    let t = topology::from_yaml(&yaml, "bench").expect("topology");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let adapter = rt.block_on(DockerAdapter::open_at(&env.host)).expect("docker");
    let engine = Engine::with_runtime(t, vlanmac::docker::Docker::with(adapter));
    let bollard = rt
        .block_on(async {
            let d =
                Docker::connect_with_unix(env.host.trim_start_matches("unix://"), 120, bollard::API_DEFAULT_VERSION)?;
            d.negotiate_version().await
        })
        .expect("bollard");
    let undo = || {
        for c in &fx.containers {
            for net in &nets {
                env.docker(&["network", "disconnect", "-f", net, c]);
            }
        }
        for net in &nets {
            env.docker(&["network", "rm", net]);
        }
    };
    let create_args = |k: usize| {
        vec![
            "network".to_string(),
            "create".into(),
            "-d".into(),
            "macvlan".into(),
            "--subnet".into(),
            format!("10.{}.0.0/24", 120 + k),
            "--gateway".into(),
            format!("10.{}.0.1", 120 + k),
            "-o".into(),
            format!("parent={}", fx.parents[k]),
            nets[k].clone(),
        ]
    };
    let (mut ours, mut cli, mut seq) = (vec![], vec![], vec![]);
    // A container's first connect after it started costs Docker far more
    // than the later ones: one untimed round first, so every method meets
    // the same containers.
    rt.block_on(sequential(&bollard, &nets, &fx));
    undo();
    // Each round starts with another method (a container's first connect
    // after it was started costs Docker more than the later ones).
    for round in 0..rounds {
        for m in 0..3 {
            match (round + m) % 3 {
                0 => {
                    ours.push(timed(|| {
                        rt.block_on(engine.apply(&Options::default())).expect("vlanmac apply");
                    }));
                    rt.block_on(engine.down(&Options::default())).expect("vlanmac down");
                }
                1 => {
                    cli.push(timed(|| {
                        for k in 0..2 {
                            let args = create_args(k);
                            let args: Vec<&str> = args.iter().map(String::as_str).collect();
                            assert!(env.docker(&args), "docker network create");
                        }
                        for (i, c) in fx.containers.iter().enumerate() {
                            let (k, a) = ip_of(i);
                            assert!(
                                env.docker(&["network", "connect", "--ip", &a, &nets[k], c]),
                                "docker network connect"
                            );
                        }
                    }));
                    undo();
                }
                _ => {
                    seq.push(timed(|| rt.block_on(sequential(&bollard, &nets, &fx))));
                    undo();
                }
            }
        }
    }
    let some = |v: Vec<Duration>| (!v.is_empty()).then(|| median(v));
    let mut table =
        Table::new(format!("## Docker: {n} containers onto 2 macvlan networks, static IPv4 (median of {rounds})"));
    table.row("vlanmac apply (inspects in parallel, connects in turn)", some(ours));
    table.row(format!("docker CLI: network create x2, network connect --ip x{n}"), some(cli));
    table.row(format!("bollard, one call after another: create_network x2, connect_network x{n}"), some(seq));
    table.print();
    drop(fx);
}
