//! Integration tests: the real `warp` binary against real Rust projects,
//! built with the real toolchain. One test crate, a module per area.

mod cli;
mod errors;
mod fork;
mod install;
mod libc;
mod pack;
mod run;
mod serve_compat;
mod shims;
mod size_check;
mod support;
