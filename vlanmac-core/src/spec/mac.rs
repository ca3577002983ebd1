use std::{fmt, str::FromStr};

use super::SpecError;

/// A unicast, non-zero Ethernet address, as `macvlan_validate()` and
/// `eth_validate_addr()` require (the kernel answers EADDRNOTAVAIL otherwise).
///
/// ```
/// use vlanmac_core::spec::MacAddr;
/// let m: MacAddr = "02:42:0a:0a:0a:03".parse().unwrap();
/// assert!(m.is_locally_administered());
/// assert!("01:00:5e:00:00:01".parse::<MacAddr>().is_err()); // multicast
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr([u8; 6]);

impl MacAddr {
    /// Validates six bytes; the error's field is `mac`.
    pub fn new(bytes: [u8; 6]) -> Result<Self, SpecError> {
        let shown = MacAddr(bytes).to_string();
        if bytes == [0; 6] {
            return Err(SpecError::new("mac", shown, "is all-zero (not a valid unicast address)"));
        }
        if bytes[0] & 1 != 0 {
            return Err(SpecError::new("mac", shown, "is a multicast address (the first octet's lowest bit is set)"));
        }
        Ok(MacAddr(bytes))
    }

    /// Validates a byte slice of any length (as read from the kernel).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, SpecError> {
        let arr: [u8; 6] =
            bytes.try_into().map_err(|_| SpecError::new("mac", format!("{bytes:02x?}"), "is not 6 bytes long"))?;
        MacAddr::new(arr)
    }

    /// The six bytes.
    pub fn octets(self) -> [u8; 6] {
        self.0
    }

    /// Whether the locally-administered bit (0x02 of the first octet) is set.
    pub fn is_locally_administered(self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// A locally administered unicast address whose last four bytes are the
    /// given IPv4 address: Docker's `02:42:` + address scheme, the MAC the
    /// seed's `docker inspect` shows.
    pub fn docker_style(ipv4: std::net::Ipv4Addr) -> Self {
        let o = ipv4.octets();
        MacAddr([0x02, 0x42, o[0], o[1], o[2], o[3]])
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

impl FromStr for MacAddr {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SpecError::new("mac", s, "is not six hex octets separated by ':' or '-'");
        let parts: Vec<&str> = s.split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(bad());
        }
        let mut bytes = [0u8; 6];
        for (b, p) in bytes.iter_mut().zip(&parts) {
            if p.is_empty() || p.len() > 2 {
                return Err(bad());
            }
            *b = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        MacAddr::new(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let m: MacAddr = "02:42:0A:0a:3c:04".parse().unwrap();
        assert_eq!(m.to_string(), "02:42:0a:0a:3c:04");
        assert_eq!("02-42-0a-0a-3c-04".parse::<MacAddr>().unwrap(), m);
    }

    #[test]
    fn rejects_multicast_zero_and_garbage() {
        for (s, rule) in [
            ("00:00:00:00:00:00", "all-zero"),
            ("01:00:5e:00:00:01", "multicast"),
            ("ff:ff:ff:ff:ff:ff", "multicast"),
            ("33:33:00:00:00:01", "multicast"),
            ("02:42:0a", "six hex"),
            ("02:42:0a:0a:3c:04:05", "six hex"),
            ("02:42:0a:0a:3c:zz", "six hex"),
            ("002:42:0a:0a:3c:04", "six hex"),
        ] {
            let e = s.parse::<MacAddr>().unwrap_err();
            assert_eq!(e.field, "mac");
            assert!(e.rule.contains(rule), "{s}: {e}");
        }
        assert!(MacAddr::from_slice(&[2, 0, 0]).is_err());
    }

    #[test]
    fn docker_style_matches_seed() {
        let m = MacAddr::docker_style("10.10.60.4".parse().unwrap());
        assert_eq!(m.to_string(), "02:42:0a:0a:3c:04");
        assert!(m.is_locally_administered());
    }
}
