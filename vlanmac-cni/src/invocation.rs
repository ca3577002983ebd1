//! The `CNI_*` environment of one invocation, validated: a missing or bad
//! variable is error 4 naming it.

use std::path::PathBuf;

use vlanmac_core::spec::{IfName, MacAddr};

use crate::error::{CniError, Code, Result};

/// The verb (`CNI_COMMAND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Attach the container to the network.
    Add,
    /// Detach it (idempotent).
    Del,
    /// Check an attachment against `prevResult`.
    Check,
    /// Report the supported spec versions.
    Version,
    /// Whether the plugin can serve ADD (CNI 1.1).
    Status,
    /// Remove what belongs to no valid attachment (CNI 1.1).
    Gc,
}

impl Verb {
    fn parse(s: &str) -> Option<Verb> {
        Some(match s {
            "ADD" => Verb::Add,
            "DEL" => Verb::Del,
            "CHECK" => Verb::Check,
            "VERSION" => Verb::Version,
            "STATUS" => Verb::Status,
            "GC" => Verb::Gc,
            _ => return None,
        })
    }

    /// As the runtime spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Add => "ADD",
            Verb::Del => "DEL",
            Verb::Check => "CHECK",
            Verb::Version => "VERSION",
            Verb::Status => "STATUS",
            Verb::Gc => "GC",
        }
    }
}

/// `CNI_ARGS` that this plugin understands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CniArgs {
    /// `MAC=...`: the interface's MAC address.
    pub mac: Option<MacAddr>,
}

/// One invocation's environment.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `CNI_COMMAND`.
    pub verb: Verb,
    /// `CNI_CONTAINERID` (ADD, DEL, CHECK).
    pub container_id: String,
    /// `CNI_NETNS`: the pod's namespace file (ADD, CHECK; optional for DEL).
    pub netns: Option<PathBuf>,
    /// `CNI_IFNAME`: the interface to make in the pod (ADD, DEL, CHECK).
    pub ifname: Option<IfName>,
    /// `CNI_ARGS`, parsed.
    pub args: CniArgs,
    /// `CNI_ARGS` as given (passed on to the IPAM plugin).
    pub raw_args: Option<String>,
    /// `CNI_PATH`: where the IPAM plugins are.
    pub path: Vec<PathBuf>,
}

fn invalid(var: &str, value: &str, rule: &str) -> CniError {
    CniError::new(Code::InvalidEnvironment, format!("{var}: {value:?} {rule}"))
}

/// A container ID: an alphanumeric first character, then alphanumerics,
/// `_`, `.`, `-` (the spec's rule).
fn valid_container_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Parses `K=V;K=V`: `MAC` is understood, `IgnoreUnknown=1|true` lets
/// other keys pass (runtimes send `K8S_POD_NAME` and the like with it);
/// without it an unknown key is error 2.
fn parse_args(raw: &str) -> Result<CniArgs> {
    let pairs: Vec<(&str, &str)> = raw
        .split(';')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').ok_or_else(|| invalid("CNI_ARGS", p, "is not KEY=VALUE")))
        .collect::<Result<_>>()?;
    let ignore_unknown =
        pairs.iter().any(|(k, v)| *k == "IgnoreUnknown" && (v.eq_ignore_ascii_case("true") || *v == "1"));
    let mut args = CniArgs::default();
    for (k, v) in pairs {
        match k {
            "IgnoreUnknown" => {}
            "MAC" => {
                args.mac =
                    Some(v.parse::<MacAddr>().map_err(|e| {
                        CniError::new(Code::InvalidEnvironment, format!("CNI_ARGS: MAC {v} {}", e.rule))
                    })?)
            }
            _ if ignore_unknown => {}
            _ => {
                return Err(CniError::new(
                    Code::UnsupportedField,
                    format!("CNI_ARGS: {k} is not understood by vlanmac-cni (add IgnoreUnknown=1 to pass it)"),
                ))
            }
        }
    }
    Ok(args)
}

impl Invocation {
    /// Reads the environment through `get` (`std::env::var` in the binary).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Invocation> {
        let command = get("CNI_COMMAND").ok_or_else(|| invalid("CNI_COMMAND", "", "is not set"))?;
        let verb = Verb::parse(&command)
            .ok_or_else(|| invalid("CNI_COMMAND", &command, "is not one of ADD, DEL, CHECK, VERSION, STATUS, GC"))?;
        let mut inv = Invocation {
            verb,
            container_id: String::new(),
            netns: None,
            ifname: None,
            args: CniArgs::default(),
            raw_args: None,
            path: Vec::new(),
        };
        if matches!(verb, Verb::Version) {
            return Ok(inv);
        }
        let required = |var: &str| {
            get(var).filter(|v| !v.is_empty()).ok_or_else(|| invalid(var, "", &format!("is required for {command}")))
        };
        if matches!(verb, Verb::Add | Verb::Del | Verb::Check) {
            let id = required("CNI_CONTAINERID")?;
            if !valid_container_id(&id) {
                return Err(invalid(
                    "CNI_CONTAINERID",
                    &id,
                    "must start with a letter or digit, then A-Z a-z 0-9 _ . -",
                ));
            }
            inv.container_id = id;
            let ifname = required("CNI_IFNAME")?;
            inv.ifname = Some(IfName::new(ifname.clone()).map_err(|e| invalid("CNI_IFNAME", &ifname, &e.rule))?);
            let netns = match verb {
                Verb::Del => get("CNI_NETNS").filter(|v| !v.is_empty()),
                _ => Some(required("CNI_NETNS")?),
            };
            if let Some(p) = netns.as_deref().filter(|p| !p.starts_with('/')) {
                // Resolved against the plugin's working directory, it would
                // name whatever happens to be there.
                return Err(invalid("CNI_NETNS", p, "must be an absolute path"));
            }
            inv.netns = netns.map(PathBuf::from);
            inv.raw_args = get("CNI_ARGS");
            inv.args = parse_args(inv.raw_args.as_deref().unwrap_or_default())?;
        }
        inv.path =
            get("CNI_PATH").unwrap_or_default().split(':').filter(|p| !p.is_empty()).map(PathBuf::from).collect();
        Ok(inv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn add_needs_its_variables_and_names_the_missing_one() {
        let full = [
            ("CNI_COMMAND", "ADD"),
            ("CNI_CONTAINERID", "c0ffee"),
            ("CNI_NETNS", "/var/run/netns/p"),
            ("CNI_IFNAME", "net1"),
            ("CNI_PATH", "/opt/cni/bin:/usr/lib/cni"),
            ("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=x;MAC=02:00:00:00:00:01"),
        ];
        let inv = Invocation::from_env(env(&full)).unwrap();
        assert_eq!(inv.verb, Verb::Add);
        assert_eq!(inv.path.len(), 2);
        assert_eq!(inv.args.mac.map(|m| m.to_string()).as_deref(), Some("02:00:00:00:00:01"));
        for missing in ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"] {
            let some: Vec<_> = full.iter().copied().filter(|(k, _)| *k != missing).collect();
            let e = Invocation::from_env(env(&some)).unwrap_err();
            assert_eq!(e.code, Code::InvalidEnvironment);
            assert!(e.msg.starts_with(missing), "{e}");
        }
    }

    #[test]
    fn bad_values_are_named() {
        let base = [("CNI_CONTAINERID", "c1"), ("CNI_NETNS", "/x"), ("CNI_IFNAME", "eth0")];
        let with = |k: &'static str, v: &'static str| {
            let mut e: Vec<(&str, &str)> = base.iter().copied().filter(|(x, _)| *x != k).collect();
            e.push(("CNI_COMMAND", "ADD"));
            e.push((k, v));
            Invocation::from_env(env(&e)).unwrap_err()
        };
        assert!(with("CNI_IFNAME", "a/b").msg.starts_with("CNI_IFNAME"));
        assert!(with("CNI_IFNAME", "sixteen-bytes-xx").msg.starts_with("CNI_IFNAME"));
        assert!(with("CNI_CONTAINERID", "-x").msg.starts_with("CNI_CONTAINERID"));
        assert_eq!(with("CNI_ARGS", "FOO=1").code, Code::UnsupportedField);
        assert!(with("CNI_ARGS", "MAC=01:00:00:00:00:01").msg.contains("MAC"));
        assert!(with("CNI_ARGS", "nonsense").msg.starts_with("CNI_ARGS"));
        let e = with("CNI_NETNS", "run/netns/x");
        assert_eq!(e.code, Code::InvalidEnvironment);
        assert_eq!(e.msg, "CNI_NETNS: \"run/netns/x\" must be an absolute path");
        let e = Invocation::from_env(env(&[("CNI_COMMAND", "FROB")])).unwrap_err();
        assert!(e.msg.starts_with("CNI_COMMAND"));
        assert!(Invocation::from_env(env(&[])).unwrap_err().msg.starts_with("CNI_COMMAND"));
    }

    #[test]
    fn del_without_netns_and_version_without_anything() {
        let inv =
            Invocation::from_env(env(&[("CNI_COMMAND", "DEL"), ("CNI_CONTAINERID", "c1"), ("CNI_IFNAME", "eth0")]))
                .unwrap();
        assert!(inv.netns.is_none());
        assert_eq!(Invocation::from_env(env(&[("CNI_COMMAND", "VERSION")])).unwrap().verb, Verb::Version);
        assert_eq!(Invocation::from_env(env(&[("CNI_COMMAND", "STATUS")])).unwrap().verb, Verb::Status);
    }
}
