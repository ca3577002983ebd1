use std::{fmt, str::FromStr};

use super::SpecError;

/// An 802.1Q VLAN id, 1–4094.
///
/// The kernel accepts 0 (priority tagging) and rejects 4095 (`vlan_validate`);
/// like Docker, vlanmac also rejects 0, which carries no VLAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VlanId(u16);

impl VlanId {
    /// Validates `id`; the error's field is `vlan`.
    pub fn new(id: u32) -> Result<Self, SpecError> {
        if (1..=4094).contains(&id) {
            Ok(VlanId(id as u16))
        } else {
            Err(SpecError::new("vlan", id, "is outside 1-4094"))
        }
    }

    /// The numeric id.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for VlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The tag protocol of a VLAN device (`ip link ... type vlan protocol P`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VlanProtocol {
    /// IEEE 802.1Q, ethertype 0x8100 (the default).
    #[default]
    Ieee8021Q,
    /// IEEE 802.1ad (QinQ service tag), ethertype 0x88a8.
    Ieee8021Ad,
}

impl VlanProtocol {
    /// The ethertype on the wire.
    pub fn ethertype(self) -> u16 {
        match self {
            VlanProtocol::Ieee8021Q => 0x8100,
            VlanProtocol::Ieee8021Ad => 0x88a8,
        }
    }

    /// The protocol for an ethertype, if it is one of the two.
    pub fn from_ethertype(t: u16) -> Option<Self> {
        match t {
            0x8100 => Some(VlanProtocol::Ieee8021Q),
            0x88a8 => Some(VlanProtocol::Ieee8021Ad),
            _ => None,
        }
    }
}

impl fmt::Display for VlanProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VlanProtocol::Ieee8021Q => "802.1Q",
            VlanProtocol::Ieee8021Ad => "802.1ad",
        })
    }
}

impl FromStr for VlanProtocol {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "802.1q" | "8021q" | "dot1q" => Ok(VlanProtocol::Ieee8021Q),
            "802.1ad" | "8021ad" | "qinq" => Ok(VlanProtocol::Ieee8021Ad),
            _ => Err(SpecError::new("vlan_protocol", s, "is not one of 802.1Q, 802.1ad")),
        }
    }
}

/// VLAN device flags (`ip link ... type vlan reorder_hdr on gvrp off ...`).
///
/// `None` leaves the kernel default (reorder_hdr on, the rest off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VlanFlags {
    /// `reorder_hdr`: present the VLAN device as plain Ethernet.
    pub reorder_hdr: Option<bool>,
    /// `gvrp`: register the VLAN with GVRP.
    pub gvrp: Option<bool>,
    /// `mvrp`: register the VLAN with MVRP.
    pub mvrp: Option<bool>,
    /// `loose_binding`: don't follow the parent's operational state.
    pub loose_binding: Option<bool>,
    /// `bridge_binding`: follow the state of bridge ports in this VLAN.
    pub bridge_binding: Option<bool>,
}

impl VlanFlags {
    /// The `(flags, mask)` pair sent as `IFLA_VLAN_FLAGS`, or `None` when no
    /// flag is set explicitly.
    pub fn flags_and_mask(&self) -> Option<(u32, u32)> {
        let mut flags = 0u32;
        let mut mask = 0u32;
        for (bit, v) in [
            (0x1, self.reorder_hdr),
            (0x2, self.gvrp),
            (0x4, self.loose_binding),
            (0x8, self.mvrp),
            (0x10, self.bridge_binding),
        ] {
            if let Some(on) = v {
                mask |= bit;
                if on {
                    flags |= bit;
                }
            }
        }
        (mask != 0).then_some((flags, mask))
    }

    /// Decodes the kernel's flag word (every flag known).
    pub fn from_bits(bits: u32) -> Self {
        let f = |b: u32| Some(bits & b != 0);
        VlanFlags { reorder_hdr: f(0x1), gvrp: f(0x2), loose_binding: f(0x4), mvrp: f(0x8), bridge_binding: f(0x10) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlan_id_range() {
        assert_eq!(VlanId::new(1).unwrap().get(), 1);
        assert_eq!(VlanId::new(4094).unwrap().get(), 4094);
        for bad in [0, 4095, 65536, u32::MAX] {
            let e = VlanId::new(bad).unwrap_err();
            assert_eq!(e.to_string(), format!("vlan: {bad} is outside 1-4094"));
        }
    }

    #[test]
    fn protocol_parse_and_ethertype() {
        assert_eq!("802.1Q".parse::<VlanProtocol>().unwrap(), VlanProtocol::Ieee8021Q);
        assert_eq!("802.1ad".parse::<VlanProtocol>().unwrap(), VlanProtocol::Ieee8021Ad);
        assert!("802.1x".parse::<VlanProtocol>().is_err());
        for p in [VlanProtocol::Ieee8021Q, VlanProtocol::Ieee8021Ad] {
            assert_eq!(VlanProtocol::from_ethertype(p.ethertype()), Some(p));
        }
    }

    #[test]
    fn flags_mask() {
        assert_eq!(VlanFlags::default().flags_and_mask(), None);
        let f = VlanFlags { reorder_hdr: Some(false), gvrp: Some(true), ..Default::default() };
        assert_eq!(f.flags_and_mask(), Some((0x2, 0x3)));
        let back = VlanFlags::from_bits(0x2);
        assert_eq!(back.gvrp, Some(true));
        assert_eq!(back.reorder_hdr, Some(false));
    }
}
