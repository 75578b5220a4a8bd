//! One module per subcommand: a clap `Opts` and a `run` that calls the
//! domain modules and prints. No build logic lives here.

pub mod cache;
pub mod compat;
pub mod dev;
pub mod doctor;
pub mod new;
pub mod pack;
pub mod patches;
pub mod rebase;
pub mod run;
pub mod size_check;
pub mod toolchain;
