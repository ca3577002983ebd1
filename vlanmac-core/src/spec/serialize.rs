//! Spec values serialize as the text `ip` would print (`eth0.10`, `bridge`,
//! `802.1Q`, `02:42:0a:00:0a:03`) or, for numbers, as numbers.

use serde::{Serialize, Serializer};

use super::{IfName, IpvlanFlags, IpvlanMode, MacAddr, MacvlanMode, Mtu, NetnsName, Subnet, VlanId, VlanProtocol};

macro_rules! as_text {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    )*};
}
as_text!(IfName, NetnsName, MacAddr, MacvlanMode, IpvlanMode, IpvlanFlags, VlanProtocol, Subnet);

impl Serialize for VlanId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.get())
    }
}

impl Serialize for Mtu {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.get())
    }
}
