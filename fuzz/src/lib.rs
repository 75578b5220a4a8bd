//! The parts of `warp` that read untrusted input, compiled from warp's own
//! source files (`#[path]`) without the rest of the crate: linking the
//! whole library would build Wasmtime and Binaryen (C++) with nightly's
//! fuzzing instrumentation, about an hour on a 2-core machine, for code
//! the targets never reach. This crate root mirrors warp's, so the modules
//! keep their `crate::` paths; that these few files need nothing else is
//! the invariant docs/ARCHITECTURE.md states (parsers and size accounting
//! touch no processes, no network, no runner). A module that starts to
//! need another breaks this build: add it here, or ask whether a parser
//! should need it.

#[path = "../../src/error.rs"]
pub mod error;
#[path = "../../src/fs.rs"]
pub mod fs;
#[path = "../../src/manifest.rs"]
pub mod manifest;
#[path = "../../src/project.rs"]
pub mod project;
#[path = "../../src/shim.rs"]
pub mod shim;
#[path = "../../src/size.rs"]
pub mod size;

#[path = "../../src/fork/series.rs"]
#[doc(hidden)]
pub mod series;

pub mod fork {
    pub use crate::series;
}
