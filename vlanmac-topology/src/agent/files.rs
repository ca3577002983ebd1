//! The topology files the agent keeps: each path is a file, or a folder
//! whose `.yaml`, `.yml` and `.json` files are read (hidden files and
//! editors' temporary files left out).

use std::path::{Path, PathBuf};

use crate::Topology;

/// What a topology file holds now.
#[derive(Debug)]
pub(crate) enum Loaded {
    /// A valid topology.
    Topology(Box<Topology>),
    /// Not one: why, naming the field.
    Refused(String),
}

/// Whether `p` is a topology file by its name.
fn is_topology_file(p: &Path) -> bool {
    let Some(name) = p.file_name().and_then(|n| n.to_str()) else { return false };
    !name.starts_with('.')
        && !name.ends_with('~')
        && p.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

/// Every topology file under `paths` and what it holds, sorted by path.
/// A path that does not exist holds nothing (it may appear later).
pub(crate) fn load(paths: &[PathBuf]) -> Vec<(PathBuf, Loaded)> {
    let mut files: Vec<PathBuf> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let Ok(entries) = std::fs::read_dir(p) else { continue };
            files.extend(entries.flatten().map(|e| e.path()).filter(|f| f.is_file() && is_topology_file(f)));
        } else if p.is_file() {
            files.push(p.clone());
        }
    }
    files.sort();
    files.dedup();
    files
        .into_iter()
        .map(|f| {
            let loaded = match Topology::from_path(&f) {
                Ok(t) => Loaded::Topology(Box::new(t)),
                Err(e) => Loaded::Refused(e.to_string()),
            };
            (f, loaded)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_give_their_topology_files_and_refusals_name_the_field() {
        let dir = std::env::temp_dir().join(format!("vlanmac-agent-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.yaml"), include_str!("../../../examples/seed.yaml")).unwrap();
        std::fs::write(
            dir.join("b.json"),
            "{\"name\": \"b\", \"networks\": {\"n\": {\"parent\": \"eth0\", \"vlan\": 5000}}}",
        )
        .unwrap();
        std::fs::write(dir.join(".hidden.yaml"), "x").unwrap();
        std::fs::write(dir.join("a.yaml~"), "x").unwrap();
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        let got = load(&[dir.clone(), dir.join("missing.yaml")]);
        let names: Vec<String> =
            got.iter().map(|(p, _)| p.file_name().unwrap().to_string_lossy().to_string()).collect();
        assert_eq!(names, ["a.yaml", "b.json"]);
        assert!(matches!(&got[0].1, Loaded::Topology(t) if t.name == "seed"));
        match &got[1].1 {
            Loaded::Refused(e) => assert!(e.contains("vlan"), "{e}"),
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
