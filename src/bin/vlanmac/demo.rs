//! `vlanmac demo`: the seed walkthrough (examples/seed.yaml, built in) in
//! throwaway namespaces with the lab router: plan, apply, verify, down.
//! Exits 0 only if every check passed.

use std::{process::ExitCode, sync::Arc};

use vlanmac::{
    topology::{self, apply::ApplyOptions},
    verify, Error, Shared,
};

/// The seed topology, as shipped in examples/seed.yaml.
pub const SEED: &str = include_str!("../../../examples/seed.yaml");

pub async fn demo(docker: bool, keep: bool) -> Result<ExitCode, Error> {
    if docker {
        eprintln!("vlanmac demo --docker: the Docker adapter is not wired into the topology engine yet");
        return Ok(ExitCode::from(1));
    }
    let t = topology::from_yaml(SEED, "seed")?;
    let shared = Shared::default();
    println!("== vlanmac demo: the seed walkthrough (topology {}, kernel {})", t.name, kernel_release());
    println!("\n== 1. plan");
    let plan = t.plan(&shared).await?;
    print!("{plan}");
    println!("\n== 2. apply");
    let opts =
        ApplyOptions { shared: shared.clone(), progress: Some(Arc::new(|i, n, c| println!("[{i:>2}/{n}] {c}"))) };
    let res = match t.apply(&opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vlanmac demo: {e}");
            if matches!(&e, Error::Apply { source, .. } if matches!(**source, Error::KernelUnsupported(_))) {
                eprintln!(
                    "vlanmac demo: this kernel lacks a feature the seed needs; scripts/demo runs it in a kernel VM"
                );
            }
            return Ok(ExitCode::from(1));
        }
    };
    println!("applied {} changes with {} netlink writes", res.changes.len(), res.writes);
    let again = t.plan(&shared).await?;
    println!("a second plan finds {} changes", again.changes.len());
    println!("\n== 3. verify");
    let report = verify::verify(&t, &shared).await?;
    print!("{report}");
    let passed = report.passed() && again.is_empty();
    if keep {
        println!("\n== 4. kept (remove with: vlanmac down examples/seed.yaml)");
    } else {
        println!("\n== 4. down");
        let down = t.down(&shared).await?;
        for r in &down.removed {
            println!("- {r}");
        }
    }
    println!("\n== {}", if passed { "demo passed: every check is ok" } else { "demo FAILED" });
    Ok(if passed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default()
}
