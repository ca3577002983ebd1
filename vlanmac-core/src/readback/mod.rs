//! Typed read-back of kernel state. Decoding never panics: an attribute the
//! kernel did not send is `None`, one vlanmac does not know is kept raw.

mod address;
mod link;
mod neighbour;
mod route;

pub use address::Address;
pub use link::{Link, LinkKind, LinkSummary, OperState, Parent};
pub use neighbour::{Neighbour, NeighbourState};
pub use route::Route;
