//! Operations: methods on [`crate::Netlink`], each the equivalent of one
//! `ip` command, built from pure messages and sent by the executor.

mod address;
mod batch;
mod link;
mod neighbour;
mod route;

pub use batch::{Batch, BatchReport};
