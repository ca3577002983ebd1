//! systemd's notify protocol (sd_notify(3)), written out: a datagram of
//! `KEY=VALUE` lines to the unix socket `$NOTIFY_SOCKET` names (a path, or
//! an abstract name after `@`). Without `$NOTIFY_SOCKET` (not started by
//! systemd with `Type=notify`) nothing is sent.

use std::{os::unix::net::UnixDatagram, time::Duration};

/// Sends `state` (`READY=1`, `STATUS=...`, `WATCHDOG=1`, `STOPPING=1`);
/// whether it was sent.
pub fn send(state: &str) -> bool {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else { return false };
    let Ok(sock) = UnixDatagram::unbound() else { return false };
    let bytes = path.as_encoded_bytes();
    match bytes.strip_prefix(b"@") {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let Ok(addr) = std::os::unix::net::SocketAddr::from_abstract_name(name) else { return false };
            sock.send_to_addr(state.as_bytes(), &addr).is_ok()
        }
        None => sock.send_to(state.as_bytes(), &path).is_ok(),
    }
}

/// How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC`, when systemd
/// set it for this process (`$WATCHDOG_PID`, if set, is ours).
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok()? != std::process::id() {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real datagram listener stands in for systemd: what `send` writes
    /// arrives as one datagram, for a path and for an abstract name.
    #[test]
    fn states_reach_the_notify_socket() {
        let dir = std::env::temp_dir().join(format!("vlanmac-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        listener.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        std::env::set_var("NOTIFY_SOCKET", &path);
        assert!(send("READY=1\nSTATUS=2 topologies"));
        let mut buf = [0u8; 256];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\nSTATUS=2 topologies");
        use std::os::linux::net::SocketAddrExt;
        let name = format!("vlanmac-notify-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let abstract_listener = UnixDatagram::bind_addr(&addr).unwrap();
        abstract_listener.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        std::env::set_var("NOTIFY_SOCKET", format!("@{name}"));
        assert!(send("WATCHDOG=1"));
        let n = abstract_listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1");
        std::env::set_var("WATCHDOG_USEC", "20000000");
        std::env::set_var("WATCHDOG_PID", std::process::id().to_string());
        assert_eq!(watchdog_interval(), Some(Duration::from_secs(10)));
        std::env::set_var("WATCHDOG_PID", "1");
        assert_eq!(watchdog_interval(), None);
        std::env::remove_var("NOTIFY_SOCKET");
        assert!(!send("READY=1"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
