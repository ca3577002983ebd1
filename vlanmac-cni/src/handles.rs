//! The plugin's netlink handles: the runtime's namespace (where the master
//! and the VLANs are) and the pod's (`CNI_NETNS`). All share one
//! [`Shared`], which carries the test hook of `FaultInjector::from_env`
//! (`VLANMAC_FAULT_FAIL_WRITE=K` fails the K-th netlink write).

use std::{path::Path, sync::OnceLock};

use futures::executor::block_on;
use vlanmac_core::{FaultInjector, Netlink, NetnsRef, Shared};

use crate::error::{from_core, CniError, Code, Result};

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| Shared { faults: FaultInjector::from_env(), ..Shared::default() })
}

/// The runtime's namespace (the plugin's own).
pub fn host() -> Result<Netlink> {
    block_on(Netlink::open_shared(NetnsRef::Current, shared())).map_err(from_core)
}

/// The pod's namespace, or error 3 naming `CNI_NETNS`.
pub fn pod(netns: &Path) -> Result<Netlink> {
    block_on(Netlink::open_shared(NetnsRef::Path(netns.to_path_buf()), shared())).map_err(|e| {
        CniError::new(
            Code::UnknownContainer,
            format!("CNI_NETNS: {} is not a usable network namespace", netns.display()),
        )
        .details(e.to_string())
    })
}
