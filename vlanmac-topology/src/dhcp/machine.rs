//! The DHCPv4 client's states (RFC 2131 section 4.4) as a value fed with
//! datagrams: it says what to send and how long to wait, and never touches
//! a socket or a clock, so every path is tested without root
//! (`dhcp/exchange.rs` is the I/O around it).

use std::net::Ipv4Addr;

use vlanmac_core::spec::MacAddr;

use super::{
    lease::Lease,
    message::{self, Ask, ReplyKind},
};

/// Where a client starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goal {
    /// A new lease: DISCOVER, or, with the address held before (a lease
    /// file from an earlier run), REQUEST it first (INIT-REBOOT) and fall
    /// back to DISCOVER when the server refuses.
    Acquire {
        /// The address held before, if any.
        previous: Option<Ipv4Addr>,
    },
    /// Extend a lease with the server that granted it (RENEWING, unicast).
    Renew(Lease),
    /// Extend a lease with any server (REBINDING, broadcast).
    Rebind(Lease),
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// `None`: broadcast (255.255.255.255); else the server's address.
    pub to: Option<Ipv4Addr>,
    /// The DHCP message.
    pub bytes: Vec<u8>,
}

/// What a datagram changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Not an answer to this client, or not one that changes anything.
    Nothing,
    /// The client moved on: send [`Client::packet`] now.
    SendNow,
    /// A lease: the client is done.
    Bound,
    /// The server refused too often: the client gave up.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Selecting,
    Requesting { addr: Ipv4Addr, server: Ipv4Addr },
    Rebooting(Ipv4Addr),
    Renewing(Lease),
    Rebinding(Lease),
    Bound(Lease),
    Refused,
}

/// DHCPNAKs after which a client stops asking.
const MAX_NAKS: u32 = 3;

/// One interface's client.
#[derive(Debug, Clone)]
pub struct Client {
    mac: MacAddr,
    hostname: Option<String>,
    xid: u32,
    state: State,
    tries: u32,
    naks: Vec<String>,
}

impl Client {
    /// A client for `mac` starting at `goal`, with transaction id `xid`.
    pub fn new(goal: Goal, mac: MacAddr, hostname: Option<String>, xid: u32) -> Client {
        let state = match goal {
            Goal::Acquire { previous: Some(a) } => State::Rebooting(a),
            Goal::Acquire { previous: None } => State::Selecting,
            Goal::Renew(l) => State::Renewing(l),
            Goal::Rebind(l) => State::Rebinding(l),
        };
        Client { mac, hostname, xid, state, tries: 0, naks: Vec::new() }
    }

    /// The packet this state sends (again after each wait); `None` once
    /// done.
    pub fn packet(&self) -> Option<Packet> {
        let (ask, to) = match &self.state {
            State::Selecting => (Ask::Discover, None),
            State::Requesting { addr, server } => (Ask::Select { addr: *addr, server: *server }, None),
            State::Rebooting(a) => (Ask::Reboot(*a), None),
            State::Renewing(l) => (Ask::Extend(l.address), Some(l.server)),
            State::Rebinding(l) => (Ask::Extend(l.address), None),
            State::Bound(_) | State::Refused => return None,
        };
        Some(Packet { to, bytes: message::request(ask, &self.mac, self.xid, self.hostname.as_deref()) })
    }

    /// Records that [`Client::packet`] went out; returns how long to wait
    /// for an answer before sending it again, in milliseconds: 1 s, 2 s,
    /// then 4 s (RFC 2131 starts at 4 s and doubles to 64 s; a VLAN's
    /// server is one hop away, and a caller's deadline bounds the whole).
    pub fn sent(&mut self) -> u64 {
        let wait = 1000u64 << self.tries.min(2);
        self.tries += 1;
        wait
    }

    /// How many times the current state's packet went out.
    pub fn tries(&self) -> u32 {
        self.tries
    }

    /// What the server said each time it refused (DHCPNAK), in order.
    pub fn naks(&self) -> &[String] {
        &self.naks
    }

    /// The lease, once bound.
    pub fn lease(&self) -> Option<&Lease> {
        match &self.state {
            State::Bound(l) => Some(l),
            _ => None,
        }
    }

    /// Whether the client is done (bound or refused).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Bound(_) | State::Refused)
    }

    /// What the client waits for, for an error message.
    pub fn waiting_for(&self) -> &'static str {
        match self.state {
            State::Selecting => "a DHCPOFFER",
            State::Requesting { .. } | State::Rebooting(_) => "a DHCPACK",
            State::Renewing(_) => "a DHCPACK from the server that granted the lease",
            State::Rebinding(_) => "a DHCPACK from any server",
            State::Bound(_) | State::Refused => "nothing",
        }
    }

    /// Feeds one datagram received at `now` (seconds since the epoch);
    /// `next_xid` is the transaction id a restart would use.
    pub fn on_datagram(&mut self, bytes: &[u8], now: u64, next_xid: u32) -> Progress {
        let Some(r) = message::reply(bytes, &self.mac, self.xid) else { return Progress::Nothing };
        match (&self.state, r.kind) {
            (State::Selecting, ReplyKind::Offer) => {
                let (Some(server), false) = (r.server, r.addr.is_unspecified()) else { return Progress::Nothing };
                self.state = State::Requesting { addr: r.addr, server };
                self.tries = 0;
                Progress::SendNow
            }
            (
                State::Requesting { .. } | State::Rebooting(_) | State::Renewing(_) | State::Rebinding(_),
                ReplyKind::Ack,
            ) => match Lease::from_ack(&r, self.mac, now) {
                Some(l) => {
                    self.state = State::Bound(l);
                    Progress::Bound
                }
                None => Progress::Nothing,
            },
            (
                State::Requesting { .. } | State::Rebooting(_) | State::Renewing(_) | State::Rebinding(_),
                ReplyKind::Nak,
            ) => {
                // Start over with a fresh transaction (RFC 2131 3.1, 3.2):
                // the address is gone; DISCOVER again.
                self.naks.push(r.message.unwrap_or_else(|| "(no message)".into()));
                if self.naks.len() as u32 >= MAX_NAKS {
                    self.state = State::Refused;
                    return Progress::Refused;
                }
                self.state = State::Selecting;
                self.xid = next_xid;
                self.tries = 0;
                Progress::SendNow
            }
            _ => Progress::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use dhcproto::v4::MessageType;

    use super::*;
    use crate::dhcp::message::tests::answer;

    fn mac() -> MacAddr {
        "02:42:0a:00:14:39".parse().unwrap()
    }
    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 20, 57);

    #[test]
    fn discover_offer_request_ack() {
        let mut c = Client::new(Goal::Acquire { previous: None }, mac(), None, 5);
        assert_eq!(c.packet().unwrap().to, None);
        assert_eq!((c.sent(), c.sent(), c.sent(), c.sent()), (1000, 2000, 4000, 4000));
        // Someone else's offer, then ours.
        assert_eq!(c.on_datagram(&answer(MessageType::Offer, 6, &mac(), A, 120), 0, 9), Progress::Nothing);
        assert_eq!(c.on_datagram(&answer(MessageType::Offer, 5, &mac(), A, 120), 0, 9), Progress::SendNow);
        assert_eq!(c.tries(), 0);
        assert_eq!(c.waiting_for(), "a DHCPACK");
        // A second offer (another server) does not restart the request.
        assert_eq!(c.on_datagram(&answer(MessageType::Offer, 5, &mac(), A, 120), 0, 9), Progress::Nothing);
        assert_eq!(c.on_datagram(&answer(MessageType::Ack, 5, &mac(), A, 120), 1000, 9), Progress::Bound);
        let l = c.lease().unwrap();
        assert_eq!((l.address, l.acquired, l.expires_at()), (A, 1000, 1120));
        assert!(c.is_done() && c.packet().is_none());
    }

    #[test]
    fn a_refused_reboot_falls_back_to_discover_with_a_new_transaction() {
        let mut c = Client::new(Goal::Acquire { previous: Some(A) }, mac(), None, 5);
        assert_eq!(
            c.on_datagram(&answer(MessageType::Nak, 5, &mac(), Ipv4Addr::UNSPECIFIED, 0), 0, 77),
            Progress::SendNow
        );
        assert_eq!(c.naks().len(), 1);
        assert_eq!(c.waiting_for(), "a DHCPOFFER");
        // Answers to the old transaction no longer count.
        assert_eq!(c.on_datagram(&answer(MessageType::Offer, 5, &mac(), A, 120), 0, 78), Progress::Nothing);
        assert_eq!(c.on_datagram(&answer(MessageType::Offer, 77, &mac(), A, 120), 0, 78), Progress::SendNow);
    }

    #[test]
    fn renew_is_unicast_and_three_naks_give_up() {
        let mut c = Client::new(Goal::Acquire { previous: None }, mac(), None, 1);
        c.on_datagram(&answer(MessageType::Offer, 1, &mac(), A, 120), 0, 2);
        c.on_datagram(&answer(MessageType::Ack, 1, &mac(), A, 120), 0, 2);
        let lease = c.lease().unwrap().clone();
        let mut r = Client::new(Goal::Renew(lease.clone()), mac(), None, 10);
        assert_eq!(r.packet().unwrap().to, Some(lease.server));
        let b = Client::new(Goal::Rebind(lease), mac(), None, 10);
        assert_eq!(b.packet().unwrap().to, None);
        let nak = |x| answer(MessageType::Nak, x, &mac(), Ipv4Addr::UNSPECIFIED, 0);
        assert_eq!(r.on_datagram(&nak(10), 0, 11), Progress::SendNow);
        r.on_datagram(&answer(MessageType::Offer, 11, &mac(), A, 120), 0, 12);
        assert_eq!(r.on_datagram(&nak(11), 0, 12), Progress::SendNow);
        r.on_datagram(&answer(MessageType::Offer, 12, &mac(), A, 120), 0, 13);
        assert_eq!(r.on_datagram(&nak(12), 0, 13), Progress::Refused);
        assert!(r.is_done() && r.lease().is_none() && r.packet().is_none());
    }

    #[test]
    fn a_server_moving_the_address_on_renewal_is_a_new_lease() {
        let old = {
            let mut c = Client::new(Goal::Acquire { previous: None }, mac(), None, 1);
            c.on_datagram(&answer(MessageType::Offer, 1, &mac(), A, 120), 0, 2);
            c.on_datagram(&answer(MessageType::Ack, 1, &mac(), A, 120), 0, 2);
            c.lease().unwrap().clone()
        };
        let moved = Ipv4Addr::new(10, 0, 20, 99);
        let mut r = Client::new(Goal::Renew(old), mac(), None, 3);
        assert_eq!(r.on_datagram(&answer(MessageType::Ack, 3, &mac(), moved, 60), 500, 4), Progress::Bound);
        assert_eq!(r.lease().unwrap().address, moved);
    }
}
