//! Fixtures for tests against the private Docker engine that scripts/test
//! starts (in a network namespace of its own; `VLANMAC_DOCKER_HOST`,
//! `VLANMAC_DOCKER_NETNS`, `VLANMAC_DOCKER_IMAGE`). Without it the tests
//! report themselves skipped, unless `VLANMAC_REQUIRE_DOCKER=1`.

use std::{
    process::Command,
    sync::atomic::{AtomicU32, Ordering},
};

use vlanmac::docker::DockerAdapter;

use crate::common::*;

pub struct DockerEnv {
    pub adapter: DockerAdapter,
    /// The namespace dockerd (and so every Docker macvlan parent) lives in.
    pub netns: String,
    pub image: String,
    pub host: String,
}

pub async fn docker_env(test: &str) -> Option<DockerEnv> {
    let host = std::env::var("VLANMAC_DOCKER_HOST").ok();
    let required = std::env::var("VLANMAC_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
    let Some(host) = host else {
        assert!(!required, "{test}: VLANMAC_REQUIRE_DOCKER=1 but no VLANMAC_DOCKER_HOST");
        record_skip(test, "no private Docker engine (VLANMAC_DOCKER_HOST unset; scripts/test starts one)");
        return None;
    };
    let adapter = DockerAdapter::open_at(&host).await.unwrap_or_else(|e| panic!("{test}: {e}"));
    Some(DockerEnv {
        adapter,
        netns: std::env::var("VLANMAC_DOCKER_NETNS").expect("VLANMAC_DOCKER_NETNS"),
        image: std::env::var("VLANMAC_DOCKER_IMAGE").unwrap_or_else(|_| "vlanmac-test:busybox".into()),
        host,
    })
}

pub fn unique(tag: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    format!("vt{}{}{tag}", std::process::id() % 100000, SEQ.fetch_add(1, Ordering::Relaxed))
}

impl DockerEnv {
    /// Runs Debian's docker client against the private engine.
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new("/usr/bin/docker").env("DOCKER_HOST", &self.host).args(args).output().expect("docker");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Starts a container on `--net none` (removed on drop).
    pub fn container(&self, tag: &str) -> Container<'_> {
        let name = unique(tag);
        let (ok, _, err) = self.cli(&["run", "-d", "--name", &name, "--net", "none", &self.image]);
        assert!(ok, "docker run {name}: {err}");
        Container { env: self, name }
    }

    /// A veth pair in dockerd's namespace to serve as a macvlan parent; the
    /// far end `peer` can be moved into a test namespace.
    pub fn parent(&self, tag: &str) -> Parent {
        let a = format!("{}a", unique(tag));
        let b = format!("{}b", &a[..a.len() - 1]);
        run_ip(&["-n", &self.netns, "link", "add", &a, "type", "veth", "peer", "name", &b]);
        run_ip(&["-n", &self.netns, "link", "set", &a, "up"]);
        run_ip(&["-n", &self.netns, "link", "set", &b, "up"]);
        Parent { netns: self.netns.clone(), name: a, peer: b }
    }
}

pub struct Container<'a> {
    env: &'a DockerEnv,
    pub name: String,
}

impl Container<'_> {
    /// `docker exec NAME ARGS...`
    pub fn exec(&self, args: &[&str]) -> (bool, String) {
        let mut full = vec!["exec", self.name.as_str()];
        full.extend_from_slice(args);
        let (ok, out, err) = self.env.cli(&full);
        (ok, format!("{out}{err}"))
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = self.env.cli(&["rm", "-f", &self.name]);
    }
}

pub struct Parent {
    netns: String,
    pub name: String,
    pub peer: String,
}

impl Drop for Parent {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["-n", &self.netns, "link", "del", &self.name]).output();
    }
}

/// Removes a Docker network on drop.
pub struct NetGuard<'a>(pub &'a DockerEnv, pub String);

impl Drop for NetGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.cli(&["network", "rm", &self.1]);
    }
}

/// Takes a Docker topology down when dropped, so a failing test leaves
/// nothing behind.
pub struct DockerTopoGuard<'a>(pub &'a DockerEnv, pub vlanmac::topology::Topology);

impl Drop for DockerTopoGuard<'_> {
    fn drop(&mut self) {
        let (host, t) = (self.0.host.clone(), self.1.clone());
        let r = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let d = DockerAdapter::open_at(&host).await?;
                vlanmac::topology::Engine::with_runtime(t, vlanmac::docker::Docker::with(d))
                    .down(&Default::default())
                    .await
            })
        })
        .join();
        if let Ok(Err(e)) = r {
            eprintln!("warning: docker topology down failed: {e}");
        }
    }
}
