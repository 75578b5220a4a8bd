//! `warp`: packs Rust, Go, TypeScript and Bun services into WebAssembly
//! components, keeps them inside size budgets, and runs them.
//!
//! The binary's `main` calls [`cli::main`]; everything else is domain code
//! the commands in [`commands`] call. See `docs/ARCHITECTURE.md`.

pub mod assets;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod compat;
pub mod component;
pub mod dev;
pub mod doctor;
pub mod engine;
pub mod error;
pub mod fork;
pub mod fs;
pub mod lang;
pub mod manifest;
pub mod optimize;
pub mod pack;
pub mod project;
pub mod report;
pub mod runner;
pub mod shim;
pub mod size;
pub mod size_report;
pub mod templates;
pub mod ui;
