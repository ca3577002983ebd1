use std::fmt;

use super::SpecError;

/// A link MTU: 68 (the IPv4 minimum) to 65535.
///
/// Whether it fits the parent (a macvlan or VLAN may not exceed its parent's
/// MTU) depends on kernel state, so that check happens when the parent is
/// known; the kernel answers EINVAL if it is missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mtu(u32);

impl Mtu {
    /// Smallest MTU accepted.
    pub const MIN: u32 = 68;
    /// Largest MTU accepted.
    pub const MAX: u32 = 65535;

    /// Validates `mtu`; the error's field is `mtu`.
    pub fn new(mtu: u32) -> Result<Self, SpecError> {
        if (Self::MIN..=Self::MAX).contains(&mtu) {
            Ok(Mtu(mtu))
        } else {
            Err(SpecError::new("mtu", mtu, "is outside 68-65535"))
        }
    }

    /// The numeric value.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Mtu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(Mtu::new(68).is_ok());
        assert!(Mtu::new(9000).is_ok());
        assert_eq!(Mtu::new(67).unwrap_err().field, "mtu");
        assert!(Mtu::new(65536).is_err());
    }
}
