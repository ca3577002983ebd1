//! `vlanmac demo`: the seed walkthrough (examples/seed.yaml, built in) in
//! throwaway namespaces with the lab router: plan, apply, verify, down.
//! `--docker` runs it through Docker (examples/seed-docker.yaml): the
//! daemon must live in a namespace of its own, named by
//! `VLANMAC_DOCKER_NETNS` (scripts/demo --docker starts one), and
//! `VLANMAC_DEMO_IMAGE` names a local image to run container0/1/2 from.
//! Exits 0 only if every check passed.

use std::{process::ExitCode, sync::Arc};

use vlanmac::{
    docker::{Docker, DockerAdapter},
    spec::NetnsName,
    topology::{self, Engine, Options, Topology},
    verify::{CheckPlan, VerifyReport},
    Error,
};

/// The seed topology, as shipped in examples/seed.yaml.
pub const SEED: &str = include_str!("../../../examples/seed.yaml");
/// The seed through Docker, as shipped in examples/seed-docker.yaml.
pub const SEED_DOCKER: &str = include_str!("../../../examples/seed-docker.yaml");

fn progress() -> Options {
    Options { progress: Some(Arc::new(|i, n, c| println!("[{i:>2}/{n}] {c}"))), ..Options::default() }
}

fn finish(report: &VerifyReport, clean_second_plan: bool) -> ExitCode {
    let passed = report.passed() && clean_second_plan;
    println!("\n== {}", if passed { "demo passed: every check is ok" } else { "demo FAILED" });
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub async fn demo(docker: bool, keep: bool) -> Result<ExitCode, topology::Error> {
    if docker {
        return demo_docker(keep).await;
    }
    let t = topology::from_yaml(SEED, "seed")?;
    let opts = Options::default();
    println!("== vlanmac demo: the seed walkthrough (topology {}, kernel {})", t.name, kernel_release());
    println!("\n== 1. plan");
    let plan = t.plan(&opts).await?;
    print!("{plan}");
    println!("\n== 2. apply");
    let res = match t.apply(&progress()).await {
        Ok(r) => r,
        Err(e) => {
            explain(&e);
            return Ok(ExitCode::from(1));
        }
    };
    println!("applied {} changes with {} netlink writes", res.changes.len(), res.writes);
    let again = t.plan(&opts).await?;
    println!("a second plan finds {} changes", again.changes.len());
    println!("\n== 3. verify");
    // The walkthrough's checks are every ping and traceroute: the full mesh.
    let report = t.verify(&Options { check_plan: CheckPlan::Mesh, ..opts.clone() }).await?;
    print!("{report}");
    if keep {
        println!("\n== 4. kept (remove with: vlanmac down examples/seed.yaml)");
    } else {
        println!("\n== 4. down");
        print!("{}", t.down(&opts).await?.to_text());
    }
    Ok(finish(&report, again.is_empty()))
}

fn explain(e: &Error) {
    eprintln!("vlanmac demo: {e}");
    if matches!(e, Error::Apply { source, .. } if matches!(**source, Error::KernelUnsupported(_))) {
        eprintln!("vlanmac demo: this kernel lacks a feature the seed needs; scripts/demo runs it in a kernel VM");
    }
}

async fn demo_docker(keep: bool) -> Result<ExitCode, topology::Error> {
    let Ok(ns) = std::env::var("VLANMAC_DOCKER_NETNS") else {
        eprintln!(
            "vlanmac demo --docker: set VLANMAC_DOCKER_NETNS to the namespace the Docker daemon runs in \
             (the demo's lab trunk must not sit beside the machine's own eth0); scripts/demo --docker starts one"
        );
        return Ok(ExitCode::from(1));
    };
    let image = std::env::var("VLANMAC_DEMO_IMAGE").unwrap_or_else(|_| "vlanmac-test:busybox".into());
    let mut t: Topology = topology::from_yaml(SEED_DOCKER, "seed-docker")?;
    t.namespace = Some(NetnsName::new(ns).map_err(Error::from)?);
    let d = DockerAdapter::open().await?;
    println!(
        "== vlanmac demo --docker: the seed walkthrough through Docker {} (kernel {})",
        d.socket(),
        kernel_release()
    );
    println!("\n== 1. containers (docker run -d --net none {image})");
    let names = ["container0", "container1", "container2"];
    for c in names {
        d.run_detached(c, &image).await?;
        println!("started {c}");
    }
    let outcome = run_docker_demo(&t, &d, keep).await;
    if !keep {
        for c in names {
            let _ = d.remove_container(c).await;
        }
    }
    outcome
}

async fn run_docker_demo(t: &Topology, d: &DockerAdapter, keep: bool) -> Result<ExitCode, topology::Error> {
    let engine = Engine::with_runtime(t.clone(), Docker::with(d.clone()));
    let opts = Options::default();
    println!("\n== 2. plan");
    print!("{}", engine.plan(&opts).await?);
    println!("\n== 3. apply");
    let res = engine.apply(&progress()).await?;
    println!("applied {} changes with {} netlink writes", res.changes.len(), res.writes);
    for c in ["container1"] {
        let view = d.inspect(c).await?;
        println!("docker inspect {c}:");
        for (n, e) in &view.networks {
            println!(
                "  {n}: IPAddress {} /{} Gateway {} GlobalIPv6Address {} IPv6Gateway {} MacAddress {}",
                e.ip_address.as_deref().unwrap_or("-"),
                e.ip_prefix_len.unwrap_or(0),
                e.gateway.as_deref().unwrap_or("-"),
                e.global_ipv6_address.as_deref().unwrap_or("-"),
                e.ipv6_gateway.as_deref().unwrap_or("-"),
                e.mac_address.as_deref().unwrap_or("-")
            );
        }
    }
    let again = engine.plan(&opts).await?;
    println!("a second plan finds {} changes", again.changes.len());
    println!("\n== 4. verify");
    let report = engine.verify(&Options { check_plan: CheckPlan::Mesh, ..opts.clone() }).await?;
    print!("{report}");
    if keep {
        println!("\n== 5. kept");
    } else {
        println!("\n== 5. down");
        print!("{}", engine.down(&opts).await?.to_text());
    }
    Ok(finish(&report, again.is_empty()))
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default()
}
