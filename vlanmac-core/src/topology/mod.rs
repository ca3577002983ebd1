//! The declarative model (DESIGN §3.2): read a topology file, validate it,
//! plan the changes against the kernel, apply them with rollback, take them
//! down again.

pub mod file;
pub mod ipam;
mod load;
pub mod model;
mod validate;
#[cfg(test)]
mod validate_tests;

pub use load::{from_file_struct, from_json, from_path, from_yaml, Format};
pub use model::*;
