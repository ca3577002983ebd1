//! A blocking netlink socket that sends many requests per `send` and
//! matches the replies by sequence number.
//!
//! The kernel handles rtnetlink requests while the sender is still inside
//! `send` (the reply is queued before `send` returns), so a request/reply
//! exchange never waits on anything but the kernel's own work. Pipelining
//! therefore means packing: up to [`CHUNK_MESSAGES`] requests go in one
//! datagram (the kernel walks every message of it in turn, in order) and
//! their acknowledgements are read back together, one system call each way
//! instead of two per request.

use std::os::fd::AsRawFd;

use netlink_packet_core::{
    NetlinkBuffer, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;

use super::extack;
use crate::error::{Error, Result};

/// At most this many requests share one datagram.
pub(crate) const CHUNK_MESSAGES: usize = 64;
/// At most this many bytes of requests share one datagram.
const CHUNK_BYTES: usize = 48 * 1024;
/// The receive buffer asked for (as root, beyond `rmem_max`): room for the
/// replies of a whole chunk of GETs.
const RCVBUF: usize = 4 * 1024 * 1024;
/// How long one receive may wait for the kernel.
const RECV_TIMEOUT_SECS: libc::time_t = 120;
/// One datagram from the kernel: a dump part is at most 32 KiB.
const RECV_BUFFER: usize = 64 * 1024;

thread_local! {
    static RECV: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// One request: the message and its flags beyond `NLM_F_REQUEST` (`NLM_F_ACK`
/// is added to everything that is not a dump).
pub(crate) struct Request {
    pub msg: RouteNetlinkMessage,
    pub flags: u16,
}

/// How the kernel answered one request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Acknowledged: the reply messages (a GET's object, a dump's parts) and
    /// whether a dump was flagged NLM_F_DUMP_INTR.
    Done { messages: Vec<RouteNetlinkMessage>, interrupted: bool },
    /// NLMSG_ERROR with this errno (positive) and the extended-ack text.
    Failed { errno: i32, extack: Option<String> },
}

/// A connected, blocking NETLINK_ROUTE socket.
pub(crate) struct SyncSocket {
    sock: netlink_sys::Socket,
    next_seq: u32,
    out: Vec<u8>,
}

impl std::fmt::Debug for SyncSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncSocket").field("fd", &self.sock.as_raw_fd()).finish()
    }
}

impl SyncSocket {
    /// A socket in the calling thread's namespace.
    pub(crate) fn open_here(what: &str) -> Result<Self> {
        let sock = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_ROUTE).map_err(|e| Error::io(what, e))?;
        SyncSocket::new(sock)
    }

    /// Binds and connects `sock` (created in its namespace) to the kernel.
    pub(crate) fn new(mut sock: netlink_sys::Socket) -> Result<Self> {
        sock.bind_auto().map_err(|e| Error::io("bind a netlink socket", e))?;
        sock.connect(&netlink_sys::SocketAddr::new(0, 0)).map_err(|e| Error::io("connect a netlink socket", e))?;
        // Best effort: old kernels lack these options; errors then carry no text.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        force_receive_buffer(&sock, RCVBUF);
        // A kernel that never answers fails the request instead of hanging.
        let timeout = libc::timeval { tv_sec: RECV_TIMEOUT_SECS, tv_usec: 0 };
        // SAFETY: setsockopt reads a live timeval of the size given.
        unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&timeout as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
        }
        Ok(SyncSocket { sock, next_seq: 1, out: Vec::new() })
    }

    /// Sends `reqs` in order (packed into datagrams) and returns one outcome
    /// per request, in the same order. A failure of the socket itself fails
    /// every request that had no answer yet.
    pub(crate) fn exchange(&mut self, reqs: Vec<Request>) -> Vec<Result<Outcome>> {
        let mut results: Vec<Option<Result<Outcome>>> = Vec::with_capacity(reqs.len());
        let mut pending: Vec<Pending> = Vec::new();
        let mut reqs = reqs.into_iter().peekable();
        while let Some(req) = reqs.next() {
            let dump = req.flags & NLM_F_DUMP == NLM_F_DUMP;
            let index = results.len();
            results.push(None);
            let seq = self.next_seq;
            self.next_seq = self.next_seq.wrapping_add(1).max(1);
            let mut msg = NetlinkMessage::from(req.msg);
            msg.header.flags = NLM_F_REQUEST | req.flags | if dump { 0 } else { NLM_F_ACK };
            msg.header.sequence_number = seq;
            msg.finalize();
            let start = self.out.len();
            self.out.resize(start + msg.buffer_len(), 0);
            msg.serialize(&mut self.out[start..]);
            pending.push(Pending { seq, index, messages: Vec::new(), interrupted: false });
            // A dump goes alone; otherwise pack until the chunk is full.
            let next_dump = reqs.peek().is_some_and(|r| r.flags & NLM_F_DUMP == NLM_F_DUMP);
            if dump
                || next_dump
                || pending.len() >= CHUNK_MESSAGES
                || self.out.len() >= CHUNK_BYTES
                || reqs.peek().is_none()
            {
                self.flush(&mut pending, &mut results);
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(Error::Internal("no reply was matched to a request that was sent".into())))
            })
            .collect()
    }

    /// Sends the packed chunk and reads until every request in it is answered.
    fn flush(&mut self, pending: &mut Vec<Pending>, results: &mut [Option<Result<Outcome>>]) {
        let sent = self.sock.send(&self.out, 0);
        // Keep no request buffer between exchanges: a process may hold
        // thousands of handles.
        self.out = Vec::new();
        if let Err(e) = sent {
            for p in pending.drain(..) {
                results[p.index] = Some(Err(Error::io("send netlink requests", clone_io(&e))));
            }
            return;
        }
        while !pending.is_empty() {
            if let Err(fault) = self.receive(pending, results) {
                for p in pending.drain(..) {
                    results[p.index] = Some(Err(fault.error()));
                }
            }
        }
    }

    /// Reads one datagram and files its messages under their requests.
    fn receive(
        &mut self,
        pending: &mut Vec<Pending>,
        results: &mut [Option<Result<Outcome>>],
    ) -> std::result::Result<(), Fault> {
        // One receive buffer per thread, not per handle: a process may hold
        // thousands of handles (one per namespace of a large topology).
        RECV.with_borrow_mut(|buf| {
            if buf.len() < RECV_BUFFER {
                buf.resize(RECV_BUFFER, 0);
            }
            // SAFETY: recv writes at most `buf.len()` bytes into the live buffer.
            let n = unsafe { libc::recv(self.sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_TRUNC) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EINTR) {
                    return Ok(());
                }
                return Err(Fault::Io(e));
            }
            let n = n as usize;
            if n > buf.len() {
                return Err(Fault::Decode(format!("a {n}-byte datagram exceeds the {}-byte buffer", buf.len())));
            }
            let messages = split_datagram(&buf[..n]).map_err(Fault::Decode)?;
            for one in messages {
                let seq = NetlinkBuffer::new(one).sequence_number();
                let Some(pos) = pending.iter().position(|p| p.seq == seq) else {
                    continue; // a reply to nothing in flight: ignore
                };
                if let Some(r) = pending[pos].file(one) {
                    let p = pending.swap_remove(pos);
                    results[p.index] = Some(r);
                }
            }
            Ok(())
        })
    }
}

pub(crate) struct Pending {
    seq: u32,
    index: usize,
    messages: Vec<RouteNetlinkMessage>,
    interrupted: bool,
}

/// Splits a datagram into its netlink messages. Never panics: a length
/// that does not fit is an error.
pub(crate) fn split_datagram(mut data: &[u8]) -> std::result::Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let len = match NetlinkBuffer::new_checked(data) {
            Ok(b) => b.length() as usize,
            Err(e) => return Err(e.to_string()),
        };
        if len < 16 || len > data.len() {
            return Err(format!("message length {len}"));
        }
        let (one, rest) = data.split_at(len);
        out.push(one);
        data = rest.get(align4(len) - len..).unwrap_or(&[]);
    }
    Ok(out)
}

impl Pending {
    /// A request `seq` awaiting its reply.
    pub(crate) fn new(seq: u32) -> Self {
        Pending { seq, index: 0, messages: Vec::new(), interrupted: false }
    }

    /// Files one reply message (of this request); returns the request's
    /// outcome once it is complete.
    pub(crate) fn file(&mut self, one: &[u8]) -> Option<Result<Outcome>> {
        let msg = match NetlinkMessage::<RouteNetlinkMessage>::deserialize(one) {
            Ok(m) => m,
            Err(e) => return Some(Err(Error::Decode { what: "netlink reply".into(), detail: e.to_string() })),
        };
        self.interrupted |= msg.header.flags & NLM_F_DUMP_INTR != 0;
        let flags = msg.header.flags;
        match msg.payload {
            NetlinkPayload::InnerMessage(m) => {
                self.messages.push(m);
                None
            }
            NetlinkPayload::Error(e) => Some(Ok(match e.code {
                Some(code) => {
                    Outcome::Failed { errno: code.get().saturating_abs(), extack: extack::message(flags, &e.header) }
                }
                None => self.done(),
            })),
            NetlinkPayload::Done(_) => Some(Ok(self.done())),
            NetlinkPayload::Overrun(_) => {
                Some(Ok(Outcome::Failed { errno: libc::ENOBUFS, extack: Some("netlink overrun".into()) }))
            }
            _ => None,
        }
    }

    /// The messages filed so far.
    pub(crate) fn take_messages(&mut self) -> Vec<RouteNetlinkMessage> {
        std::mem::take(&mut self.messages)
    }

    fn done(&mut self) -> Outcome {
        Outcome::Done { messages: std::mem::take(&mut self.messages), interrupted: self.interrupted }
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn clone_io(e: &std::io::Error) -> std::io::Error {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::new(e.kind(), e.to_string()),
    }
}

/// Why a datagram could not be read: fails every request still waiting.
enum Fault {
    Io(std::io::Error),
    Decode(String),
}

impl Fault {
    fn error(&self) -> Error {
        match self {
            Fault::Io(e) => Error::io("receive netlink replies", clone_io(e)),
            Fault::Decode(d) => Error::Decode { what: "netlink reply".into(), detail: d.clone() },
        }
    }
}

/// Asks for a receive buffer of `bytes` beyond `rmem_max` (SO_RCVBUFFORCE,
/// as root), or as much as `rmem_max` allows; best effort.
pub(crate) fn force_receive_buffer(sock: &netlink_sys::Socket, bytes: usize) {
    let size = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from a live c_int.
    let forced = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if forced != 0 {
        let _ = sock.set_rx_buf_sz(bytes);
    }
}
