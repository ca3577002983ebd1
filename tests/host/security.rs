//! The library never starts a process: the CLI runs a whole topology
//! (apply, verify, show, down) with a PATH that has no `ip`, `sh` or
//! `docker`, and an empty environment otherwise.

use std::process::Command;

use crate::topo_common::*;

fn bare(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vlanmac"))
        .args(args)
        .env_clear()
        .env("PATH", "/nonexistent-vlanmac-path")
        .output()
        .expect("run vlanmac");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_works_with_no_ip_sh_or_docker_on_path() {
    // The PATH really has none of them.
    for tool in ["ip", "sh", "docker"] {
        assert!(!std::path::Path::new("/nonexistent-vlanmac-path").join(tool).exists());
    }
    let yaml = flat_yaml("nopath");
    let t = topo(&yaml);
    let _guard = TopoGuard(t.clone());
    let names = namespaces_of(&t);
    let before = snapshot(&names);
    let file = write_temp("nopath.yaml", &yaml);
    let f = file.to_str().unwrap();
    for args in [vec!["apply", f], vec!["verify", f], vec!["show", "--netns", &t.endpoints[0].name], vec!["down", f]] {
        let (code, out, err) = bare(&args);
        assert_eq!(code, 0, "vlanmac {args:?} without ip/sh/docker: {out}{err}");
    }
    assert_eq!(snapshot(&names), before);
}
