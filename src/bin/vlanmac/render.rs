//! `vlanmac render FILE --format F [--out DIR]`.

use std::{io::Write, os::unix::fs::OpenOptionsExt, path::Path, process::ExitCode};

use clap::{builder::PossibleValue, ValueEnum};
use vlanmac::{
    render,
    topology::{self, Topology},
    Error,
};

/// What `render` writes: vlanmac-core's [`render::Format`], with its
/// names and descriptions as clap's possible values.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RenderFormat(render::Format);

/// Every format, in `render::Format::ALL`'s order.
const VARIANTS: [RenderFormat; render::Format::ALL.len()] = {
    let mut all = [RenderFormat(render::Format::Dot); render::Format::ALL.len()];
    let mut i = 0;
    while i < all.len() {
        all[i] = RenderFormat(render::Format::ALL[i]);
        i += 1;
    }
    all
};

impl ValueEnum for RenderFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &VARIANTS
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.as_str()).help(self.0.about()))
    }
}

/// Renders `file` as `format`, printed or written into `out`.
pub fn render(file: &Path, format: RenderFormat, out: Option<&Path>) -> Result<ExitCode, topology::Error> {
    let t = Topology::from_path(file)?;
    let format = format.0;
    let text = render::render(&t, format)?;
    let Some(dir) = out else {
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    };
    let files: Vec<(String, String)> = match format {
        render::Format::Cni => render::cni_conflists(&t),
        render::Format::SystemdNetworkd | render::Format::Netplan | render::Format::NetworkManager => {
            render::files(&text)
                .into_iter()
                .map(|(path, body)| {
                    (Path::new(&path).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or(path), body)
                })
                .collect()
        }
        _ => {
            eprintln!(
                "vlanmac: invalid input: --out: only with --format cni, systemd-networkd, netplan or networkmanager"
            );
            return Ok(ExitCode::from(2));
        }
    };
    // NetworkManager ignores keyfiles others can read; netplan warns.
    let mode = if format == render::Format::Cni { 0o644 } else { 0o600 };
    for (name, body) in files {
        let path = dir.join(&name);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(&path)?;
            f.write_all(body.as_bytes())?;
            // An existing file keeps its mode on open: set it.
            f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
        };
        write().map_err(|e| Error::io(format!("write {}", path.display()), e))?;
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
