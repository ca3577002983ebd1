//! Operations: methods on [`crate::Netlink`], each the equivalent of one
//! `ip` command, built from pure messages and sent by the executor.

mod address;
mod batch;
mod link;
mod neighbour;
mod route;
mod temp_name;

pub use batch::{Batch, BatchReport, Edit};
pub use temp_name::{temp_link_left_behind, temp_link_owner, TEMP_PREFIX};
