//! `vlanmac render FILE --format F [--out DIR]`.

use std::{io::Write, os::unix::fs::OpenOptionsExt, path::Path, process::ExitCode};

use clap::ValueEnum;
use vlanmac::{docker, render, topology::Topology, Error};

/// What `render` writes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    /// The upstream router's configuration (router-on-a-stick subinterfaces).
    CiscoRouter,
    /// The upstream switch's trunk and access ports.
    CiscoSwitch,
    /// A Graphviz diagram of the topology.
    Dot,
    /// The diagram as SVG (laid out without Graphviz).
    Svg,
    /// systemd-networkd units for the host side (trunk VLANs, host shims).
    SystemdNetworkd,
    /// A netplan file for the host side (Ubuntu); what netplan cannot
    /// express is listed in its header.
    Netplan,
    /// NetworkManager keyfiles for the VLANs and macvlan host shims.
    Networkmanager,
    /// The resolved topology: link names, IPAM-filled addresses, MACs.
    Json,
    /// One vlanmac-cni conflist per network (podman, containerd).
    Cni,
    /// One Multus NetworkAttachmentDefinition per network (Kubernetes).
    Multus,
}

impl From<RenderFormat> for render::Format {
    fn from(f: RenderFormat) -> render::Format {
        match f {
            RenderFormat::CiscoRouter => render::Format::CiscoRouter,
            RenderFormat::CiscoSwitch => render::Format::CiscoSwitch,
            RenderFormat::Dot => render::Format::Dot,
            RenderFormat::Svg => render::Format::Svg,
            RenderFormat::SystemdNetworkd => render::Format::SystemdNetworkd,
            RenderFormat::Netplan => render::Format::Netplan,
            RenderFormat::Networkmanager => render::Format::NetworkManager,
            RenderFormat::Json => render::Format::Json,
            RenderFormat::Cni => render::Format::Cni,
            RenderFormat::Multus => render::Format::Multus,
        }
    }
}

/// Renders `file` as `format`, printed or written into `out`.
pub fn render(file: &Path, format: RenderFormat, out: Option<&Path>) -> Result<ExitCode, docker::Error> {
    let t = Topology::from_path(file)?;
    let text = render::render(&t, format.into())?;
    let Some(dir) = out else {
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    };
    let files: Vec<(String, String)> = match format {
        RenderFormat::Cni => render::cni_conflists(&t),
        RenderFormat::SystemdNetworkd | RenderFormat::Netplan | RenderFormat::Networkmanager => render::files(&text)
            .into_iter()
            .map(|(path, body)| {
                (Path::new(&path).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or(path), body)
            })
            .collect(),
        _ => {
            eprintln!(
                "vlanmac: invalid input: --out: only with --format cni, systemd-networkd, netplan or networkmanager"
            );
            return Ok(ExitCode::from(2));
        }
    };
    // NetworkManager ignores keyfiles others can read; netplan warns.
    let mode = if format == RenderFormat::Cni { 0o644 } else { 0o600 };
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
