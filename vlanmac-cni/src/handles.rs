//! The plugin's netlink handles: the runtime's namespace (where the master
//! and the VLANs are) and the pod's (`CNI_NETNS`, see [`crate::pod`]). All
//! share one [`Shared`], which carries the test hook of
//! `FaultInjector::from_env` (`VLANMAC_FAULT_FAIL_WRITE=K` fails the K-th
//! netlink write).

use std::sync::OnceLock;

use futures::executor::block_on;
use vlanmac_core::{FaultInjector, Netlink, NetnsRef, Shared};

use crate::error::{from_core, Result};

/// What every handle of this invocation shares.
pub(crate) fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| Shared { faults: FaultInjector::from_env(), ..Shared::default() })
}

/// The runtime's namespace (the plugin's own).
pub fn host() -> Result<Netlink> {
    block_on(Netlink::open_shared(NetnsRef::Current, shared())).map_err(from_core)
}
