//! The thread that drives one netlink connection's I/O.

use std::{
    os::fd::{IntoRawFd, OwnedFd},
    thread::JoinHandle,
};

use futures::channel::oneshot;
use netlink_sys::TokioSocket;

use crate::error::{Error, Result};

/// Owns the I/O thread; dropping it ends the connection and joins the thread.
pub(crate) struct IoThread {
    shutdown: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<()>>,
}

impl IoThread {
    /// Starts a current-thread runtime on a new thread that drives the
    /// connection over `socket` (already created in its namespace).
    pub(crate) async fn start(socket: OwnedFd) -> Result<(IoThread, rtnetlink::Handle)> {
        let (handle_tx, handle_rx) = oneshot::channel();
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let join = std::thread::Builder::new()
            .name("vlanmac-netlink".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread().enable_io().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = handle_tx.send(Err(Error::io("start the netlink I/O runtime", e)));
                        return;
                    }
                };
                rt.block_on(async move {
                    let raw = socket.into_raw_fd();
                    // SAFETY: `raw` is an owned, open netlink socket whose
                    // ownership moves into the TokioSocket.
                    let sock = match std::panic::catch_unwind(|| unsafe {
                        <TokioSocket as std::os::fd::FromRawFd>::from_raw_fd(raw)
                    }) {
                        Ok(s) => s,
                        Err(_) => {
                            let _ = handle_tx.send(Err(Error::Closed));
                            return;
                        }
                    };
                    let (conn, handle, _unsolicited) = rtnetlink::from_socket(sock);
                    if handle_tx.send(Ok(handle)).is_err() {
                        return;
                    }
                    futures::pin_mut!(conn);
                    let _ = futures::future::select(conn, shutdown_rx).await;
                });
            })
            .map_err(|e| Error::io("spawn the netlink I/O thread", e))?;
        let handle = handle_rx.await.unwrap_or(Err(Error::Closed))?;
        Ok((IoThread { shutdown: Some(shutdown_tx), join: Some(join) }, handle))
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}
