//! How long-running domain work tells the outside world what it is doing.
//!
//! Domain modules take a `&dyn Reporter` and never touch the terminal; the
//! command layer passes either a progress bar (`ui::Progress`) or [`Silent`].

/// Receives progress from long-running work.
pub trait Reporter {
    /// A new phase has started, e.g. "building" or "optimizing".
    fn phase(&self, name: &str);
    /// A line of detail within the phase, e.g. "Compiling serde v1.0.1".
    fn detail(&self, line: &str);
    /// The work waits for something another process holds, e.g. "the lock
    /// on `target/warp/.warp.lock`": worth saying even without a progress
    /// bar, or a wait looks like a hang (cargo's "Blocking waiting for file
    /// lock").
    fn blocked(&self, _on: &str) {}
}

/// A reporter that drops everything (tests, `--json`, `-q`).
pub struct Silent;

impl Reporter for Silent {
    fn phase(&self, _name: &str) {}
    fn detail(&self, _line: &str) {}
}
