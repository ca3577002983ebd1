//! DHCPv4 messages (RFC 2131) as the client sends and reads them, encoded
//! and decoded by `dhcproto`; no I/O.
//!
//! Every request carries the interface's MAC as `chaddr` and as the client
//! identifier (option 61, type 1), so a server keys its lease on the MAC a
//! topology gives the interface, and a re-created interface with the same MAC
//! gets the same address back.

use std::net::Ipv4Addr;

use dhcproto::{
    v4::{self, DhcpOption, Flags, MessageType, Opcode, OptionCode},
    Decodable, Decoder, Encodable, Encoder,
};
use vlanmac_core::spec::MacAddr;

/// The server's UDP port.
pub const SERVER_PORT: u16 = 67;
/// The client's UDP port.
pub const CLIENT_PORT: u16 = 68;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// DHCPDISCOVER (broadcast).
    Discover,
    /// DHCPREQUEST for an offer from `server` (SELECTING, broadcast).
    Select {
        /// The offered address.
        addr: Ipv4Addr,
        /// The server that offered it.
        server: Ipv4Addr,
    },
    /// DHCPREQUEST for an address held before (INIT-REBOOT, broadcast).
    Reboot(Ipv4Addr),
    /// DHCPREQUEST extending a lease (RENEWING unicast to the server, or
    /// REBINDING broadcast): `ciaddr` is the address.
    Extend(Ipv4Addr),
    /// DHCPRELEASE of `addr` to `server` (unicast).
    Release {
        /// The address given back.
        addr: Ipv4Addr,
        /// The server that leased it.
        server: Ipv4Addr,
    },
}

/// The options a client asks for (option 55).
const WANTED: [OptionCode; 8] = [
    OptionCode::SubnetMask,
    OptionCode::Router,
    OptionCode::DomainNameServer,
    OptionCode::DomainName,
    OptionCode::InterfaceMtu,
    OptionCode::AddressLeaseTime,
    OptionCode::Renewal,
    OptionCode::Rebinding,
];

/// The client identifier of `mac` (option 61: hardware type 1, the MAC).
pub fn client_id(mac: &MacAddr) -> Vec<u8> {
    let mut id = vec![1];
    id.extend_from_slice(&mac.octets());
    id
}

/// Encodes a request of transaction `xid` from `mac`; `hostname` goes into
/// option 12 (a server's lease file shows it).
pub fn request(ask: Ask, mac: &MacAddr, xid: u32, hostname: Option<&str>) -> Vec<u8> {
    let ciaddr = match ask {
        Ask::Extend(a) | Ask::Release { addr: a, .. } => a,
        _ => Ipv4Addr::UNSPECIFIED,
    };
    let un = Ipv4Addr::UNSPECIFIED;
    let mut m = v4::Message::new_with_id(xid, ciaddr, un, un, un, &mac.octets());
    // Without an address the client cannot take a unicast reply: ask for
    // broadcast ones until it has one.
    if ciaddr.is_unspecified() {
        m.set_flags(Flags::default().set_broadcast());
    }
    let kind = match ask {
        Ask::Discover => MessageType::Discover,
        Ask::Release { .. } => MessageType::Release,
        _ => MessageType::Request,
    };
    let opts = m.opts_mut();
    opts.insert(DhcpOption::MessageType(kind));
    opts.insert(DhcpOption::ClientIdentifier(client_id(mac)));
    match ask {
        Ask::Select { addr, server } => {
            opts.insert(DhcpOption::RequestedIpAddress(addr));
            opts.insert(DhcpOption::ServerIdentifier(server));
        }
        Ask::Reboot(addr) => {
            opts.insert(DhcpOption::RequestedIpAddress(addr));
        }
        Ask::Release { server, .. } => {
            opts.insert(DhcpOption::ServerIdentifier(server));
        }
        Ask::Discover | Ask::Extend(_) => {}
    }
    if kind != MessageType::Release {
        opts.insert(DhcpOption::ParameterRequestList(WANTED.to_vec()));
        opts.insert(DhcpOption::MaxMessageSize(1500));
        if let Some(h) = hostname.filter(|h| !h.is_empty() && h.len() <= 63) {
            opts.insert(DhcpOption::Hostname(h.to_string()));
        }
    }
    let mut buf = Vec::with_capacity(300);
    // Encoding a message built from these values cannot fail (the options
    // are short, the hostname bounded); an empty packet is never sent.
    if m.encode(&mut Encoder::new(&mut buf)).is_err() {
        buf.clear();
    }
    buf
}

/// A server's answer, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// DHCPOFFER, DHCPACK or DHCPNAK.
    pub kind: ReplyKind,
    /// The address offered or leased (`yiaddr`).
    pub addr: Ipv4Addr,
    /// The server identifier (option 54).
    pub server: Option<Ipv4Addr>,
    /// Subnet mask (option 1) as a prefix length.
    pub prefix_len: Option<u8>,
    /// Routers (option 3), first preferred.
    pub routers: Vec<Ipv4Addr>,
    /// DNS servers (option 6).
    pub dns: Vec<Ipv4Addr>,
    /// Domain name (option 15).
    pub domain: Option<String>,
    /// Interface MTU (option 26).
    pub mtu: Option<u16>,
    /// Lease time in seconds (option 51; `u32::MAX`: infinite).
    pub lease_secs: Option<u32>,
    /// Renewal time T1 (option 58).
    pub renew_secs: Option<u32>,
    /// Rebinding time T2 (option 59).
    pub rebind_secs: Option<u32>,
    /// The server's message (option 56), e.g. why it refused.
    pub message: Option<String>,
}

/// Which answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// DHCPOFFER
    Offer,
    /// DHCPACK
    Ack,
    /// DHCPNAK
    Nak,
}

/// Decodes `bytes` as an answer to transaction `xid` from `mac`; `None` for
/// anything else (another client's transaction, a request, garbage).
pub fn reply(bytes: &[u8], mac: &MacAddr, xid: u32) -> Option<Reply> {
    let clean = sanitize(bytes)?;
    let m = v4::Message::decode(&mut Decoder::new(&clean)).ok()?;
    // An Ethernet address is 6 bytes; `chaddr()` slices by the packet's
    // own `hlen` and panics above 16 (dhcproto 0.15), so it is checked first.
    if m.opcode() != Opcode::BootReply || m.xid() != xid || m.hlen() != 6 || m.chaddr() != mac.octets() {
        return None;
    }
    let kind = match m.opts().msg_type()? {
        MessageType::Offer => ReplyKind::Offer,
        MessageType::Ack => ReplyKind::Ack,
        MessageType::Nak => ReplyKind::Nak,
        _ => return None,
    };
    let mut r = Reply {
        kind,
        addr: m.yiaddr(),
        server: None,
        prefix_len: None,
        routers: Vec::new(),
        dns: Vec::new(),
        domain: None,
        mtu: None,
        lease_secs: None,
        renew_secs: None,
        rebind_secs: None,
        message: None,
    };
    for (_, opt) in m.opts().iter() {
        match opt {
            DhcpOption::ServerIdentifier(s) => r.server = Some(*s),
            DhcpOption::SubnetMask(mask) => r.prefix_len = prefix_of(*mask),
            DhcpOption::Router(rs) => r.routers = rs.clone(),
            DhcpOption::DomainNameServer(d) => r.dns = d.clone(),
            DhcpOption::DomainName(d) => r.domain = Some(d.clone()),
            DhcpOption::InterfaceMtu(m) => r.mtu = Some(*m),
            DhcpOption::AddressLeaseTime(t) => r.lease_secs = Some(*t),
            DhcpOption::Renewal(t) => r.renew_secs = Some(*t),
            DhcpOption::Rebinding(t) => r.rebind_secs = Some(*t),
            DhcpOption::Message(s) => r.message = Some(s.clone()),
            _ => {}
        }
    }
    Some(r)
}

/// Length of the fixed BOOTP header, before the magic cookie.
const HEADER_LEN: usize = 236;
/// The DHCP magic cookie (RFC 2131 3).
const COOKIE: [u8; 4] = [99, 130, 83, 99];

/// Whether option `code` is one a client reads, with a length its format
/// allows.
fn wanted_option(code: u8, len: usize) -> bool {
    match code {
        53 => len == 1,                             // message type
        1 | 54 => len == 4,                         // subnet mask, server identifier
        3 | 6 => len >= 4 && len.is_multiple_of(4), // routers, DNS servers
        26 => len == 2,                             // interface MTU
        51 | 58 | 59 => len == 4,                   // lease time, T1, T2
        15 | 56 => len >= 1,                        // domain name, message
        _ => false,
    }
}

/// A copy of a datagram with only the options a client reads, each with a
/// length its format allows; `None` if it is not a DHCP message.
///
/// The datagram comes from the network: dhcproto 0.15's option decoders
/// assert on lengths (`debug_assert!(len == 4)`, `len - 1` for some codes),
/// so no option reaches them that could trip one.
fn sanitize(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.get(HEADER_LEN..HEADER_LEN + 4)? != COOKIE {
        return None;
    }
    let mut out = bytes.get(..HEADER_LEN + 4)?.to_vec();
    let mut i = HEADER_LEN + 4;
    while let Some(&code) = bytes.get(i) {
        match code {
            0 => i += 1,
            255 => break,
            _ => {
                let len = usize::from(*bytes.get(i + 1)?);
                let value = bytes.get(i + 2..i + 2 + len)?;
                if wanted_option(code, len) {
                    out.push(code);
                    out.push(len as u8);
                    out.extend_from_slice(value);
                }
                i += 2 + len;
            }
        }
    }
    out.push(255);
    Some(out)
}

/// The prefix length of a contiguous netmask; `None` for a mask with holes.
fn prefix_of(mask: Ipv4Addr) -> Option<u8> {
    let bits = u32::from(mask);
    let len = bits.leading_ones();
    (bits.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn mac() -> MacAddr {
        "02:42:0a:00:14:39".parse().unwrap()
    }

    /// A server's answer to `xid`, as dnsmasq would build it.
    pub(crate) fn answer(kind: MessageType, xid: u32, mac: &MacAddr, addr: Ipv4Addr, lease: u32) -> Vec<u8> {
        let un = Ipv4Addr::UNSPECIFIED;
        let mut m = v4::Message::new_with_id(xid, un, addr, un, un, &mac.octets());
        m.set_opcode(Opcode::BootReply);
        let o = m.opts_mut();
        o.insert(DhcpOption::MessageType(kind));
        o.insert(DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 0, 20, 1)));
        o.insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)));
        o.insert(DhcpOption::Router(vec![Ipv4Addr::new(10, 0, 20, 1)]));
        o.insert(DhcpOption::DomainNameServer(vec![Ipv4Addr::new(10, 0, 20, 1)]));
        o.insert(DhcpOption::DomainName("lab.example".into()));
        o.insert(DhcpOption::AddressLeaseTime(lease));
        let mut buf = Vec::new();
        m.encode(&mut Encoder::new(&mut buf)).unwrap();
        buf
    }

    #[test]
    fn requests_carry_the_mac_and_what_each_state_needs() {
        let decode = |b: Vec<u8>| v4::Message::decode(&mut Decoder::new(&b)).unwrap();
        let d = decode(request(Ask::Discover, &mac(), 7, Some("container2")));
        assert_eq!(d.opts().msg_type(), Some(MessageType::Discover));
        assert!(d.flags().broadcast());
        assert_eq!(&d.chaddr()[..6], &mac().octets());
        assert_eq!(d.opts().get(OptionCode::ClientIdentifier), Some(&DhcpOption::ClientIdentifier(client_id(&mac()))));
        assert_eq!(d.opts().get(OptionCode::Hostname), Some(&DhcpOption::Hostname("container2".into())));

        let addr = Ipv4Addr::new(10, 0, 20, 57);
        let server = Ipv4Addr::new(10, 0, 20, 1);
        let s = decode(request(Ask::Select { addr, server }, &mac(), 7, None));
        assert_eq!(s.opts().get(OptionCode::RequestedIpAddress), Some(&DhcpOption::RequestedIpAddress(addr)));
        assert_eq!(s.opts().get(OptionCode::ServerIdentifier), Some(&DhcpOption::ServerIdentifier(server)));
        assert!(s.ciaddr().is_unspecified());

        let r = decode(request(Ask::Reboot(addr), &mac(), 8, None));
        assert!(r.opts().get(OptionCode::ServerIdentifier).is_none());
        assert_eq!(r.opts().get(OptionCode::RequestedIpAddress), Some(&DhcpOption::RequestedIpAddress(addr)));

        let e = decode(request(Ask::Extend(addr), &mac(), 9, None));
        assert_eq!(e.ciaddr(), addr);
        assert!(!e.flags().broadcast());
        assert!(e.opts().get(OptionCode::RequestedIpAddress).is_none());

        let rel = decode(request(Ask::Release { addr, server }, &mac(), 10, None));
        assert_eq!(rel.opts().msg_type(), Some(MessageType::Release));
        assert_eq!(rel.ciaddr(), addr);
        assert!(rel.opts().get(OptionCode::ParameterRequestList).is_none());
        // A hostname a server cannot take is left out, not sent.
        let long = "h".repeat(64);
        let d = decode(request(Ask::Discover, &mac(), 7, Some(&long)));
        assert!(d.opts().get(OptionCode::Hostname).is_none());
    }

    #[test]
    fn replies_are_matched_on_transaction_and_mac() {
        let addr = Ipv4Addr::new(10, 0, 20, 57);
        let offer = answer(MessageType::Offer, 42, &mac(), addr, 120);
        let r = reply(&offer, &mac(), 42).unwrap();
        assert_eq!(r.kind, ReplyKind::Offer);
        assert_eq!((r.addr, r.prefix_len, r.lease_secs), (addr, Some(24), Some(120)));
        assert_eq!(r.routers, vec![Ipv4Addr::new(10, 0, 20, 1)]);
        assert_eq!(r.domain.as_deref(), Some("lab.example"));
        assert!(reply(&offer, &mac(), 43).is_none(), "another transaction");
        assert!(reply(&offer, &"02:42:0a:00:14:40".parse().unwrap(), 42).is_none(), "another client");
        // Our own broadcast request, heard back: not an answer.
        assert!(reply(&request(Ask::Discover, &mac(), 42, None), &mac(), 42).is_none());
    }

    #[test]
    fn garbage_never_panics() {
        let good = answer(MessageType::Ack, 1, &mac(), Ipv4Addr::new(10, 0, 20, 2), 60);
        for len in 0..good.len() {
            let _ = reply(&good[..len], &mac(), 1);
        }
        let mut x: u32 = 0x1234_5678;
        for _ in 0..2000 {
            let mut b = good.clone();
            for _ in 0..4 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let i = x as usize % b.len();
                b[i] = (x >> 8) as u8;
            }
            let _ = reply(&b, &mac(), 1);
        }
    }

    #[test]
    fn options_a_client_does_not_read_never_reach_the_decoder() {
        let mut good = answer(MessageType::Ack, 1, &mac(), Ipv4Addr::new(10, 0, 20, 2), 60);
        let end = good.len() - 1;
        assert_eq!(good[end], 255);
        // Bulk lease query base time (option 152) with 2 bytes instead of 4,
        // a status code (151) of length 0, a lease time of 2 bytes: each
        // would trip an assertion in dhcproto's decoder.
        good.splice(end..end, [152, 2, 0, 0, 151, 0, 51, 2, 0, 1]);
        let r = reply(&good, &mac(), 1).unwrap();
        assert_eq!(r.lease_secs, Some(60), "the first, well-formed lease time counts");
        assert!(sanitize(&good[..HEADER_LEN]).is_none(), "no cookie");
        assert!(sanitize(&good[..good.len() - 3]).is_none(), "a truncated option");
    }

    #[test]
    fn masks_with_holes_have_no_prefix() {
        assert_eq!(prefix_of(Ipv4Addr::new(255, 255, 255, 0)), Some(24));
        assert_eq!(prefix_of(Ipv4Addr::new(255, 255, 255, 255)), Some(32));
        assert_eq!(prefix_of(Ipv4Addr::UNSPECIFIED), Some(0));
        assert_eq!(prefix_of(Ipv4Addr::new(255, 0, 255, 0)), None);
    }
}
