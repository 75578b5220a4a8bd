//! Integration tests: the real `warp` binary against real Rust projects,
//! built with the real toolchain. One test crate, a module per area, each
//! listing its tests and what they need in a `tests!` block; `harness.rs`
//! runs them (ignored with the reason when this machine lacks a need, failed
//! under `CI=true`).

#[macro_use]
mod harness;
mod servers;
mod support;

mod bun;
mod cli;
mod compat;
mod dev;
mod errors;
mod fork;
mod go;
mod install;
mod layers;
mod libc;
mod pack;
mod run;
mod serve_compat;
mod shims;
mod size_check;
mod ts;

fn main() -> std::process::ExitCode {
    harness::main(&[
        harness::TESTS,
        bun::TESTS,
        cli::TESTS,
        compat::TESTS,
        dev::TESTS,
        errors::TESTS,
        fork::TESTS,
        go::TESTS,
        install::TESTS,
        layers::TESTS,
        libc::TESTS,
        pack::TESTS,
        run::TESTS,
        serve_compat::TESTS,
        shims::TESTS,
        size_check::TESTS,
        ts::TESTS,
    ])
}
