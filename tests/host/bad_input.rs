//! The bad-input corpus: every file in `tests/corpus/topology` (its first
//! line names the field the error must name) through the library and the
//! CLI, and bad CLI arguments. Each gives `InvalidSpec` / exit 2 naming the
//! field, and none reaches the kernel: the namespaces and links of the
//! machine are the same before and after.

use std::path::PathBuf;

use vlanmac::{topology, Error};

use crate::topo_common::cli;

fn corpus() -> Vec<(PathBuf, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/topology");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let field = text.lines().next().and_then(|l| l.strip_prefix("# field: ")).unwrap_or("").trim().to_string();
            (p, field)
        })
        .collect()
}

/// What `ip` sees of the whole machine: namespaces, and links here.
fn machine() -> (String, String) {
    let run = |args: &[&str]| {
        String::from_utf8_lossy(&std::process::Command::new("ip").args(args).output().unwrap().stdout).into_owned()
    };
    let mut ns: Vec<String> =
        run(&["netns", "list"]).lines().map(|l| l.split(' ').next().unwrap_or("").into()).collect();
    // Other tests' own namespaces come and go (their names carry this
    // process's PID or the fixtures' prefixes).
    let pid = std::process::id().to_string();
    ns.retain(|n| !n.starts_with("vmt-") && !n.starts_with("vt") && !n.contains(&pid));
    (ns.join(","), run(&["-o", "link", "show"]).lines().map(|l| l.split(':').nth(1).unwrap_or("")).collect())
}

#[test]
fn every_corpus_topology_is_refused_naming_its_field_by_library_and_cli() {
    let cases = corpus();
    assert!(cases.len() >= 100, "only {} corpus files", cases.len());
    let before = machine();
    let mut refused = 0;
    for (path, field) in &cases {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        match topology::from_path(path) {
            Err(Error::InvalidSpec(e)) => {
                assert!(e.to_string().contains(field.as_str()), "{name}: error does not name {field}: {e}")
            }
            Err(other) => panic!("{name}: not InvalidSpec: {other}"),
            Ok(_) => panic!("{name}: accepted"),
        }
        for verb in ["apply", "plan"] {
            let (code, out, err) = cli(&[verb, path.to_str().unwrap()]);
            assert_eq!(code, 2, "{name}: vlanmac {verb} exited {code}: {out}{err}");
            assert!(err.contains("invalid input") && err.contains(field.as_str()), "{name}: {err}");
        }
        refused += 1;
    }
    assert_eq!(machine(), before, "a refused input changed the machine");
    println!("bad-input corpus: {refused} topology files refused by the library and by `vlanmac apply`/`plan`");
}

#[test]
fn bad_cli_arguments_exit_2_naming_the_argument() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/seed.yaml");
    let cases: &[(&[&str], &str)] = &[
        (&["bogus"], "bogus"),
        (&["apply"], "<FILE>"),
        (&["plan"], "<FILE>"),
        (&["verify"], "<FILE>"),
        (&["down"], "<FILE>"),
        (&["apply", "/nonexistent/topology.yaml"], "file"),
        (&["apply", "/"], "file"),
        (&["plan", "--frobnicate", seed], "--frobnicate"),
        (&["apply", "--check", "--diff", "--bogus", seed], "--bogus"),
        (&["render", seed], "--format"),
        (&["render", "--format", "bogus", seed], "--format"),
        (&["show", "--netns", "../x"], "netns"),
        (&["show", "--netns", "/etc"], "netns"),
        (&["show", "--netns", "a/b"], "netns"),
        (&["show", "--netns", ""], "netns"),
        (&["show", "--netns", "."], "netns"),
        (&["demo", "--bogus"], "--bogus"),
    ];
    let before = machine();
    for (args, named) in cases {
        let (code, out, err) = cli(args);
        assert_eq!(code, 2, "vlanmac {args:?} exited {code}: {out}{err}");
        assert!(err.contains(named), "vlanmac {args:?} does not name {named}: {err}");
    }
    assert_eq!(machine(), before);
    println!("bad-input corpus: {} CLI argument sets refused", cases.len());
}
