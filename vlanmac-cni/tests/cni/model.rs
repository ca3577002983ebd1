//! A model test: random sequences of ADD, DEL, CHECK and GC, valid and
//! invalid (a configuration that is not JSON, an MTU above the master's, an
//! IPAM plugin that fails, a FIFO as `CNI_NETNS`, a pod namespace deleted
//! or re-created under the same path, keys repeated, invocations killed
//! with SIGKILL at random moments and cleaned up by DEL as a runtime does)
//! run against the plugin and against a model of what should exist. After
//! every step the interfaces in each pod, the plugin's records and
//! host-local's leases match the model exactly.
//!
//! `VLANMAC_CNI_MODEL_SEED` (default 19), `VLANMAC_CNI_MODEL_CASES`
//! (default 6) and `VLANMAC_CNI_MODEL_STEPS` (default 40) set the run;
//! scripts/fuzz runs it longer with another seed. A failure prints the seed,
//! the case and every step so far.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::{common::*, support::*};

const CONTAINERS: [&str; 3] = ["a", "b", "c"];
const IFNAMES: [&str; 2] = ["net1", "net2"];
const PODS: usize = 3;

/// xorshift64*: reproducible from its seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, of: &'a [T]) -> &'a T {
        &of[self.below(of.len())]
    }
}

fn env_number(var: &str, default: u64) -> u64 {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// An attachment as the model knows it.
#[derive(Debug, Clone)]
struct Attachment {
    pod: usize,
    /// The pod namespace's generation when it was made.
    generation: u32,
    address: String,
    result: Value,
}

/// What should exist.
#[derive(Default)]
struct Model {
    attachments: BTreeMap<(String, String), Attachment>,
    /// Per pod: alive, and how often its namespace was made.
    pods: Vec<(bool, u32)>,
    /// Per pod: the attachment whose ADD put in the default route. A later
    /// ADD finds it there and leaves it (the first one wins, as in the
    /// reference plugins); it goes with that attachment's interface.
    default_route: Vec<Option<(String, String)>>,
}

impl Model {
    fn add(&mut self, key: (String, String), a: Attachment) {
        if self.default_route[a.pod].is_none() {
            self.default_route[a.pod] = Some(key.clone());
        }
        self.attachments.insert(key, a);
    }

    fn remove(&mut self, key: &(String, String)) {
        if let Some(a) = self.attachments.remove(key) {
            if self.live(&a) && self.default_route[a.pod].as_ref() == Some(key) {
                self.default_route[a.pod] = None;
            }
        }
    }

    fn live(&self, a: &Attachment) -> bool {
        self.pods[a.pod] == (true, a.generation)
    }

    /// Whether an interface `ifname` of a live attachment is in pod `p`.
    fn taken(&self, p: usize, ifname: &str) -> bool {
        self.attachments.iter().any(|((_, i), a)| i == ifname && a.pod == p && self.live(a))
    }
}

/// The pods' namespaces, by name; deleted on drop.
struct Pods(Vec<String>);

impl Drop for Pods {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = std::process::Command::new(ip_path()).args(["netns", "del", n]).output();
        }
    }
}

struct World<'a> {
    rt: &'a Rt,
    conf: Value,
    pods: Pods,
    fail_ipam_dir: String,
    log: Vec<String>,
}

impl World<'_> {
    fn path(&self, p: usize) -> String {
        format!("/run/netns/{}", self.pods.0[p])
    }

    fn run(&mut self, verb: &str, conf: &Value, key: &(String, String), netns: Option<String>) -> Out {
        let extra = format!("{}:{REFERENCE_DIR}", self.fail_ipam_dir);
        let out =
            self.rt.exec_at(PLUGIN, verb, conf, &key.0, netns.as_deref(), &key.1, &[("CNI_PATH", extra.as_str())]);
        self.log.push(format!(
            "  {verb} {}/{} netns {} -> {} {}",
            key.0,
            key.1,
            netns.as_deref().unwrap_or("-"),
            out.status,
            out.text.trim()
        ));
        out
    }

    /// The observed state against the model's.
    fn compare(&self, model: &Model) -> Result<(), String> {
        for (p, name) in self.pods.0.iter().enumerate() {
            if !model.pods[p].0 {
                continue;
            }
            let have: BTreeSet<String> = link_names(name).into_iter().filter(|l| l != "lo").collect();
            let want: BTreeSet<String> = model
                .attachments
                .iter()
                .filter(|(_, a)| a.pod == p && model.live(a))
                .map(|((_, i), _)| i.clone())
                .collect();
            if have != want {
                return Err(format!("pod {p}: links {have:?}, the model says {want:?}"));
            }
            let routes = ip_json(Some(name), &["-4", "route", "show", "default"]).as_array().map_or(0, Vec::len);
            let want = usize::from(model.default_route[p].is_some());
            if routes != want {
                return Err(format!("pod {p}: {routes} default routes, the model says {want}"));
            }
        }
        let have: BTreeSet<String> =
            self.rt.recorded().iter().map(|r| r.split(' ').skip(1).take(2).collect::<Vec<_>>().join(" ")).collect();
        let want: BTreeSet<String> = model.attachments.keys().map(|(c, i)| format!("{c} {i}")).collect();
        if have != want {
            return Err(format!("records {have:?}, the model says {want:?}"));
        }
        let have: BTreeSet<String> = self.rt.leases("model").into_iter().collect();
        let want: BTreeSet<String> = model.attachments.values().map(|a| a.address.clone()).collect();
        if have != want {
            return Err(format!("leases {have:?}, the model says {want:?}"));
        }
        for ((c, i), a) in &model.attachments {
            let owner = self.rt.lease_owner("model", &a.address);
            if owner.as_deref() != Some(&format!("{c} {i}")) {
                return Err(format!("lease {} is {owner:?}'s, the model says {c} {i}", a.address));
            }
        }
        Ok(())
    }
}

fn addr_of(result: &Value) -> String {
    result["ips"][0]["address"].as_str().unwrap_or("").split('/').next().unwrap_or("").to_string()
}

/// One random step: runs it and updates the model by what the plugin must
/// have done. Err: the plugin's answer contradicts the model.
fn step(w: &mut World, model: &mut Model, rng: &mut Rng) -> Result<(), String> {
    let key = (rng.pick(&CONTAINERS).to_string(), rng.pick(&IFNAMES).to_string());
    let p = rng.below(PODS);
    let roll = rng.below(100);
    let stale_goes = |model: &mut Model, key: &(String, String)| {
        if model.attachments.get(key).is_some_and(|a| !model.live(a)) {
            model.remove(key);
        }
    };
    match roll {
        // ADD with the network's configuration.
        0..=29 => {
            let out = w.run("ADD", &w.conf.clone(), &key, Some(w.path(p)));
            if !model.pods[p].0 {
                return expect_failure(&out, "ADD into a deleted namespace");
            }
            if model.attachments.get(&key).is_some_and(|a| model.live(a)) {
                return expect_failure(&out, "ADD of a live key");
            }
            stale_goes(model, &key);
            if model.taken(p, &key.1) {
                return expect_failure(&out, "ADD of a taken interface name");
            }
            if out.status != 0 {
                return Err(format!("ADD failed: {}", out.text));
            }
            let generation = model.pods[p].1;
            model.add(key, Attachment { pod: p, generation, address: addr_of(&out.json), result: out.json.clone() });
        }
        // ADD that fails after the lock: MTU above the master's, a failing IPAM plugin.
        30..=37 => {
            let mut conf = w.conf.clone();
            if roll.is_multiple_of(2) {
                conf["mtu"] = json!(9000);
            } else {
                conf["ipam"]["type"] = json!("failing-ipam");
            }
            let out = w.run("ADD", &conf, &key, Some(w.path(p)));
            expect_failure(&out, "a failing ADD")?;
            if model.pods[p].0 && !model.attachments.get(&key).is_some_and(|a| model.live(a)) {
                stale_goes(model, &key);
            }
        }
        // Input refused before anything: not JSON; a FIFO as CNI_NETNS.
        38..=41 => {
            if roll.is_multiple_of(2) {
                let out = w.run("ADD", &json!("{\"cniVersion\": "), &key, Some(w.path(p)));
                expect_failure(&out, "not JSON")?;
            } else {
                let fifo = w.rt.dir.join("fifo").display().to_string();
                let verb = if roll % 4 == 1 { "DEL" } else { "ADD" };
                let out = w.run(verb, &w.conf.clone(), &key, Some(fifo));
                if out.code() != 3 {
                    return Err(format!("{verb} with a FIFO: {}", out.text));
                }
            }
        }
        // DEL: with the pod's namespace, without one.
        42..=61 => {
            let netns = (!roll.is_multiple_of(5)).then(|| w.path(p));
            let out = w.run("DEL", &w.conf.clone(), &key, netns.clone());
            if out.status != 0 {
                return Err(format!("DEL failed: {}", out.text));
            }
            if let Some(a) = model.attachments.get(&key) {
                let elsewhere = netns.is_some() && (a.pod != p || !model.live(a));
                if !(elsewhere && model.live(a)) {
                    model.remove(&key);
                }
            }
        }
        // CHECK of what the model holds.
        62..=69 => {
            let Some(a) = model.attachments.get(&key).cloned() else { return Ok(()) };
            let mut conf = w.conf.clone();
            conf["prevResult"] = a.result.clone();
            let out = w.run("CHECK", &conf, &key, Some(w.path(a.pod)));
            // A live attachment whose pod lost the default route it shared
            // (with the attachment that put it in) fails CHECK, rightly.
            let intact = model.live(&a) && model.default_route[a.pod].is_some();
            if intact && out.status != 0 {
                return Err(format!("CHECK of a live attachment failed: {}", out.text));
            }
            if !intact && out.status == 0 {
                return Err("CHECK passed, but the attachment is dead or its pod has no default route".into());
            }
        }
        // GC with a random subset still valid.
        70..=77 => {
            let valid: Vec<(String, String)> =
                model.attachments.keys().filter(|_| rng.below(2) == 0).cloned().collect();
            let mut conf = w.conf.clone();
            conf["cni.dev/valid-attachments"] =
                json!(valid.iter().map(|(c, i)| json!({ "containerID": c, "ifname": i })).collect::<Vec<_>>());
            let out = w.run("GC", &conf, &("gc".into(), "gc".into()), None);
            if out.status != 0 {
                return Err(format!("GC failed: {}", out.text));
            }
            // Also those whose namespace path holds no namespace now, valid
            // or not (a path made again since is left alone).
            let gone: Vec<_> = model
                .attachments
                .iter()
                .filter(|(k, a)| !valid.contains(k) || !model.pods[a.pod].0)
                .map(|(k, _)| k.clone())
                .collect();
            for k in &gone {
                model.remove(k);
            }
        }
        // A pod's namespace deleted, or made again under the same path.
        78..=85 => {
            let name = w.pods.0[p].clone();
            if model.pods[p].0 {
                run_ip(&["netns", "del", &name]);
                model.pods[p].0 = false;
                model.default_route[p] = None;
                w.log.push(format!("  netns del pod {p}"));
            } else {
                run_ip(&["netns", "add", &name]);
                model.pods[p] = (true, model.pods[p].1 + 1);
                w.log.push(format!("  netns add pod {p} (generation {})", model.pods[p].1));
            }
        }
        // An ADD killed at a random moment, then the runtime's DEL.
        _ => {
            let after = std::time::Duration::from_micros(rng.below(20_000) as u64);
            let netns = w.path(p);
            let out = w.rt.exec_killed("ADD", &w.conf, &key.0, Some(&netns), &key.1, after);
            w.log.push(format!("  ADD {}/{} pod {p} killed after {after:?} -> {}", key.0, key.1, out.status));
            let del = w.run("DEL", &w.conf.clone(), &key, Some(netns));
            if del.status != 0 {
                return Err(format!("DEL after a killed ADD failed: {}", del.text));
            }
            let live_elsewhere = model.attachments.get(&key).is_some_and(|a| model.live(a) && a.pod != p);
            if !live_elsewhere {
                model.remove(&key);
            }
        }
    }
    Ok(())
}

fn expect_failure(out: &Out, what: &str) -> Result<(), String> {
    match out.status {
        1 => Ok(()),
        _ => Err(format!("{what}: expected a failure, got {} {}", out.status, out.text)),
    }
}

/// Runs the cases; returns how many steps ran.
fn run_cases(seed: u64, cases: u64, steps: u64) -> u64 {
    let rt = Rt::new("mdl");
    let failing = rt.dir.join("bin");
    std::fs::create_dir_all(&failing).unwrap();
    let script = failing.join("failing-ipam");
    std::fs::write(
        &script,
        "#!/bin/sh\ncat >/dev/null\nif [ \"$CNI_COMMAND\" = VERSION ]; then echo '{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"1.0.0\"]}'; exit 0; fi\nif [ \"$CNI_COMMAND\" = ADD ]; then echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no address for you\"}'; exit 1; fi\nexit 0\n",
    )
    .unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&script).status().unwrap();
    assert!(std::process::Command::new("mkfifo").arg(rt.dir.join("fifo")).status().unwrap().success());
    let mut total = 0;
    for case in 0..cases {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(case + 1) | 1);
        let names: Vec<String> = (0..PODS).map(|i| format!("vmt-{}-model-{case}-{i}", std::process::id())).collect();
        for n in &names {
            run_ip(&["netns", "add", n]);
        }
        let mut w = World {
            rt: &rt,
            conf: rt.conf("model", "10.199.64.0/24", json!({ "cniVersion": "1.1.0" })),
            pods: Pods(names),
            fail_ipam_dir: failing.display().to_string(),
            log: Vec::new(),
        };
        let mut model = Model { pods: vec![(true, 0); PODS], default_route: vec![None; PODS], ..Model::default() };
        for n in 0..steps {
            let result = step(&mut w, &mut model, &mut rng).and_then(|()| w.compare(&model));
            if let Err(e) = result {
                panic!(
                    "seed {seed}, case {case}, step {n}: {e}\nsteps so far:\n{}\nmodel: {:?}",
                    w.log.join("\n"),
                    model.attachments
                );
            }
            total += 1;
        }
        // Everything the case made goes with a GC that keeps nothing.
        let mut conf = w.conf.clone();
        conf["cni.dev/valid-attachments"] = json!([]);
        w.run("GC", &conf, &("gc".into(), "gc".into()), None).ok();
        let all: Vec<_> = model.attachments.keys().cloned().collect();
        for k in &all {
            model.remove(k);
        }
        w.compare(&model).unwrap();
    }
    assert!(rt.recorded().is_empty() && rt.leases("model").is_empty());
    total
}

#[test]
fn random_add_del_check_gc_sequences_match_the_model() {
    if !reference_or_skip("random_add_del_check_gc_sequences_match_the_model") {
        return;
    }
    let seed = env_number("VLANMAC_CNI_MODEL_SEED", 19);
    let cases = env_number("VLANMAC_CNI_MODEL_CASES", 6);
    let steps = env_number("VLANMAC_CNI_MODEL_STEPS", 40);
    let total = run_cases(seed, cases, steps);
    println!("cni model: seed {seed}, {cases} cases, {total} steps, every step matched the model");
}
