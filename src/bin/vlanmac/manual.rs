//! `vlanmac man --out DIR`: the manual pages, from the same clap
//! definitions as `--help` and the shell completions (clap_mangen).

use std::{path::Path, process::ExitCode};

use vlanmac::Error;

/// Writes `vlanmac.1` and `vlanmac-COMMAND.1` for each command into `dir`
/// and prints their paths.
pub fn write(cmd: clap::Command, dir: &Path) -> Result<ExitCode, Error> {
    let cmd = cmd.name("vlanmac");
    let mut pages = vec![("vlanmac".to_string(), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("vlanmac-{}", sub.get_name());
        pages.push((name.clone(), sub.clone().name(name)));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut roff = Vec::new();
        clap_mangen::Man::new(page).render(&mut roff).map_err(|e| Error::io(format!("render {name}.1"), e))?;
        std::fs::write(&path, roff).map_err(|e| Error::io(format!("write {}", path.display()), e))?;
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
