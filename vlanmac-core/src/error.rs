//! The crate's one error type, classified from the kernel's errno.

use std::{fmt, io};

use crate::spec::SpecError;

/// What a failed kernel request was doing, the errno it got, and the
/// kernel's own words (NETLINK_EXT_ACK) when it sent any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// The operation, as `ip` would spell it: `add vlan eth0.10 on eth0`.
    pub op: String,
    /// The positive errno (`17` for EEXIST).
    pub errno: i32,
    /// The kernel's extended-ack message, e.g. `VLAN device already exists`.
    pub extack: Option<String>,
    /// What vlanmac knows about this failure (e.g. which kernel option is missing).
    pub hint: Option<String>,
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let os = io::Error::from_raw_os_error(self.errno);
        write!(f, "{}: {}", self.op, os)?;
        if let Some(m) = &self.extack {
            write!(f, "; kernel says: {m}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "; {h}")?;
        }
        Ok(())
    }
}

/// Every way a vlanmac-core call can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value broke a rule before anything was sent (the field is named).
    #[error("invalid input: {0}")]
    InvalidSpec(#[from] SpecError),
    /// The object exists already (EEXIST): same name, or same parent + VLAN id.
    #[error("already exists: {0}")]
    AlreadyExists(KernelError),
    /// The object (link, address, route, namespace) does not exist
    /// (ENODEV, ENOENT, ESRCH, ENXIO).
    #[error("not found: {0}")]
    NotFound(KernelError),
    /// The kernel refused because the object is in use (EBUSY), e.g. a
    /// macvlan and an ipvlan on one parent.
    #[error("busy: {0}")]
    Busy(KernelError),
    /// The caller lacks CAP_NET_ADMIN (or CAP_SYS_ADMIN for namespaces)
    /// (EPERM, EACCES).
    #[error("permission denied: {0}")]
    PermissionDenied(KernelError),
    /// The kernel rejected a value (EINVAL, ERANGE, EADDRNOTAVAIL), e.g. an
    /// MTU above the parent's.
    #[error("invalid argument: {0}")]
    InvalidArgument(KernelError),
    /// The running kernel lacks the feature (EOPNOTSUPP, EAFNOSUPPORT), e.g.
    /// no 802.1Q VLAN support.
    #[error("not supported by the running kernel: {0}")]
    KernelUnsupported(KernelError),
    /// Any other errno.
    #[error("kernel error: {0}")]
    Kernel(KernelError),
    /// The kernel holds something that contradicts the spec and vlanmac
    /// will not change silently (a link of the right name but another kind,
    /// another VLAN id, …).
    #[error("conflict: {0}")]
    Conflict(String),
    /// An `apply` failed at one step; everything it had created was rolled
    /// back (`rollback` lists what could not be undone, if anything).
    #[error("apply stopped at `{step}`: {source}{}", rollback_note(rollback))]
    Apply {
        /// The step that failed, as the plan prints it.
        step: String,
        /// Why it failed.
        source: Box<Error>,
        /// Undo steps that failed (empty: the kernel is as before).
        rollback: Vec<String>,
    },
    /// A dump raced changes (NLM_F_DUMP_INTR) every time it was tried.
    #[error("{what}: the kernel interrupted the dump {attempts} times in a row (NLM_F_DUMP_INTR)")]
    DumpInterrupted {
        /// What was being dumped.
        what: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The kernel's reply could not be understood.
    #[error("{what}: unexpected reply from the kernel: {detail}")]
    Decode {
        /// What was being read.
        what: String,
        /// What was wrong with it.
        detail: String,
    },
    /// The operation was stopped from outside ([`crate::Interrupt`]: a
    /// signal, Python's `KeyboardInterrupt`) before `before` started; an
    /// `apply` reports it inside [`Error::Apply`], after rolling back.
    #[error("interrupted before {before}")]
    Interrupted {
        /// The step that was about to start.
        before: String,
    },
    /// A system call outside netlink failed (namespace files, mounts, sockets).
    #[error("{op}: {source}")]
    Io {
        /// What was being done, e.g. `create netns blue: bind mount /run/netns/blue`.
        op: String,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// Changes of a [`crate::Batch`] that were not sent because a change
    /// they depend on failed (its own error is reported for it).
    #[error("{count} changes of the batch were not attempted: a change they depend on failed")]
    NotAttempted {
        /// How many changes were left out.
        count: usize,
    },
    /// A broken invariant inside vlanmac (a namespace thread that ended
    /// without an answer, a reply missing for a request that was sent).
    /// Never the caller's fault: please report it.
    #[error("internal error: {0}")]
    Internal(String),
}

fn rollback_note(failed: &[String]) -> String {
    if failed.is_empty() {
        "; everything this apply had created was rolled back".into()
    } else {
        format!("; rollback incomplete: {}", failed.join("; "))
    }
}

/// What a permission error says is missing (`privileges::NEEDS_ROOT`).
pub const NEEDS_ROOT: &str = "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)";

/// Short name for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

const EPERM: i32 = libc::EPERM;

impl Error {
    /// Classifies a failed request by errno. `unsupported` is the hint used
    /// when the kernel says the feature is missing.
    pub fn from_errno(op: impl Into<String>, errno: i32, extack: Option<String>, unsupported: Option<&str>) -> Self {
        let errno = errno.saturating_abs();
        let mut e = KernelError { op: op.into(), errno, extack, hint: None };
        match errno {
            libc::EEXIST => Error::AlreadyExists(e),
            libc::ENODEV | libc::ENOENT | libc::ESRCH | libc::ENXIO => Error::NotFound(e),
            libc::EBUSY => Error::Busy(e),
            EPERM | libc::EACCES => {
                e.hint = Some(NEEDS_ROOT.into());
                Error::PermissionDenied(e)
            }
            libc::EINVAL | libc::ERANGE | libc::EADDRNOTAVAIL | libc::E2BIG | libc::ENAMETOOLONG => {
                Error::InvalidArgument(e)
            }
            libc::EOPNOTSUPP | libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT => {
                e.hint = Some(match unsupported {
                    Some(feature) => format!("the running kernel does not support {feature}"),
                    None => "the running kernel does not support this operation".into(),
                });
                Error::KernelUnsupported(e)
            }
            _ => Error::Kernel(e),
        }
    }

    /// An I/O failure while doing `op`.
    pub fn io(op: impl Into<String>, source: io::Error) -> Self {
        Error::Io { op: op.into(), source }
    }

    /// The kernel-side details, for the variants that have them.
    pub fn kernel(&self) -> Option<&KernelError> {
        match self {
            Error::AlreadyExists(k)
            | Error::NotFound(k)
            | Error::Busy(k)
            | Error::PermissionDenied(k)
            | Error::InvalidArgument(k)
            | Error::KernelUnsupported(k)
            | Error::Kernel(k) => Some(k),
            _ => None,
        }
    }

    /// The errno behind this error, when there is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Apply { source, .. } => source.errno(),
            Error::Io { source, .. } => source.raw_os_error(),
            other => other.kernel().map(|k| k.errno),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_errno() {
        let c = |n| Error::from_errno("op", n, None, Some("802.1Q VLANs"));
        assert!(matches!(c(17), Error::AlreadyExists(_)));
        assert!(matches!(c(-17), Error::AlreadyExists(_)));
        assert!(matches!(c(19), Error::NotFound(_)));
        assert!(matches!(c(16), Error::Busy(_)));
        assert!(matches!(c(1), Error::PermissionDenied(_)));
        assert!(matches!(c(22), Error::InvalidArgument(_)));
        assert!(matches!(c(34), Error::InvalidArgument(_)));
        assert!(matches!(c(95), Error::KernelUnsupported(_)));
        assert!(matches!(c(5), Error::Kernel(_)));
    }

    #[test]
    fn messages_say_what_and_why() {
        let e = Error::from_errno("add vlan eth0.10", 95, Some("Unknown device type".into()), Some("802.1Q VLANs"));
        let s = e.to_string();
        assert!(s.contains("add vlan eth0.10"), "{s}");
        assert!(s.contains("Unknown device type"), "{s}");
        assert!(s.contains("does not support 802.1Q VLANs"), "{s}");
        let p = Error::from_errno("add link x", 1, None, None).to_string();
        assert!(p.contains("needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)"), "{p}");
        assert_eq!(Error::from_errno("x", 1, None, None).errno(), Some(1));
    }
}
