//! Writing a state file at once: the lease files, the checkpoint, the file
//! last applied, a namespace's resolv.conf. A reader (another `vlanmac`
//! process, the agent, `ip netns exec`) sees the old text or the new, never
//! a part.

use std::{io, path::Path};

/// Writes `bytes` to `path`: to a file beside it (`NAME.vlanmac-tmp`), then
/// renamed over it; the folder is made first if missing.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".vlanmac-tmp");
    let tmp = path.with_file_name(name);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// [`write_atomic`] of `value` as JSON (indented when `pretty`).
pub(crate) fn write_json(path: &Path, value: &impl serde::Serialize, pretty: bool) -> io::Result<()> {
    let bytes = if pretty { serde_json::to_vec_pretty(value) } else { serde_json::to_vec(value) };
    write_atomic(path, &bytes.map_err(io::Error::other)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("vlanmac-state-file-{}", std::process::id()));
        let p = dir.join("sub").join("state.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.join("sub")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["state.json"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
