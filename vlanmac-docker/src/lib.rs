//! # vlanmac-docker
//!
//! The Docker side of vlanmac. For now it holds the naming rule shared with
//! Docker's macvlan driver; the bollard adapter lands with the Docker issue.

use vlanmac_core::spec::{IfName, SpecError, VlanId};

/// The `-o parent=` value Docker's macvlan/ipvlan driver takes for a network
/// on `parent`, tagged with `vlan` if given: `eth0` + 10 → `eth0.10` (the
/// driver then creates that VLAN subinterface itself when missing).
pub fn docker_parent(parent: &IfName, vlan: Option<VlanId>) -> Result<IfName, SpecError> {
    match vlan {
        Some(id) => parent.vlan_child(id),
        None => Ok(parent.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_names() {
        let eth0 = IfName::new("eth0").unwrap();
        assert_eq!(
            docker_parent(&eth0, VlanId::new(10).ok()).unwrap().as_str(),
            "eth0.10"
        );
        assert_eq!(docker_parent(&eth0, None).unwrap().as_str(), "eth0");
    }
}
