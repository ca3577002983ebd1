use std::{fmt, str::FromStr};

use super::SpecError;

/// Ipvlan mode (`ip link add ... type ipvlan mode l2|l3|l3s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IpvlanMode {
    /// Layer 2: the slaves share the parent's MAC and see broadcasts.
    #[default]
    L2,
    /// Layer 3: routed by the parent, no broadcast or multicast.
    L3,
    /// Layer 3 with netfilter (conntrack) on the slaves' traffic.
    L3s,
}

impl IpvlanMode {
    /// All three modes.
    pub const ALL: [IpvlanMode; 3] = [IpvlanMode::L2, IpvlanMode::L3, IpvlanMode::L3s];

    /// The name `ip` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            IpvlanMode::L2 => "l2",
            IpvlanMode::L3 => "l3",
            IpvlanMode::L3s => "l3s",
        }
    }
}

impl fmt::Display for IpvlanMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IpvlanMode {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IpvlanMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| SpecError::new("ipvlan_mode", s, "is not one of l2, l3, l3s"))
    }
}

/// Ipvlan port flag (`ip link add ... type ipvlan mode l2 bridge|private|vepa`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IpvlanFlags {
    /// Slaves of one parent talk to each other directly (the default).
    #[default]
    Bridge,
    /// Slaves of one parent cannot talk to each other.
    Private,
    /// Traffic between slaves goes out through the parent.
    Vepa,
}

impl IpvlanFlags {
    /// All three flags.
    pub const ALL: [IpvlanFlags; 3] = [IpvlanFlags::Bridge, IpvlanFlags::Private, IpvlanFlags::Vepa];

    /// The kernel's `IFLA_IPVLAN_FLAGS` value.
    pub fn bits(self) -> u16 {
        match self {
            IpvlanFlags::Bridge => 0,
            IpvlanFlags::Private => 0x1,
            IpvlanFlags::Vepa => 0x2,
        }
    }

    /// Decodes the kernel's flag word (`private` wins if both bits are set,
    /// which the kernel refuses anyway).
    pub fn from_bits(bits: u16) -> Self {
        if bits & 0x1 != 0 {
            IpvlanFlags::Private
        } else if bits & 0x2 != 0 {
            IpvlanFlags::Vepa
        } else {
            IpvlanFlags::Bridge
        }
    }

    /// The name `ip` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            IpvlanFlags::Bridge => "bridge",
            IpvlanFlags::Private => "private",
            IpvlanFlags::Vepa => "vepa",
        }
    }
}

impl fmt::Display for IpvlanFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IpvlanFlags {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IpvlanFlags::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| SpecError::new("ipvlan_flags", s, "is not one of bridge, private, vepa"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_flags_round_trip() {
        for m in IpvlanMode::ALL {
            assert_eq!(m.as_str().parse::<IpvlanMode>().unwrap(), m);
        }
        for f in IpvlanFlags::ALL {
            assert_eq!(f.as_str().parse::<IpvlanFlags>().unwrap(), f);
            assert_eq!(IpvlanFlags::from_bits(f.bits()), f);
        }
        assert_eq!("l4".parse::<IpvlanMode>().unwrap_err().field, "ipvlan_mode");
    }
}
