//! What a running server reports as it goes: failed requests, reloads,
//! threading notes. Human lines go to stderr; with `--json`, one JSON object
//! per line goes to stdout instead (NDJSON), for log collectors.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static JSON: AtomicBool = AtomicBool::new(false);

/// Switches every later event to JSON lines (`warp run --json`).
pub fn use_json(on: bool) {
    JSON.store(on, Ordering::Relaxed);
}

pub fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// Reports `event`: `fields` (with `"event"` added) as a JSON line, or
/// `human` on stderr prefixed with `warp run: `.
pub fn event(event: &str, fields: serde_json::Value, human: impl std::fmt::Display) {
    if json() {
        record(event, fields);
    } else {
        eprintln!("warp run: {human}");
    }
}

/// Writes `fields` (with `"event"` added) as a JSON line when `--json` is
/// on; nothing otherwise (the caller prints its own human line).
pub fn record(event: &str, mut fields: serde_json::Value) {
    if !json() {
        return;
    }
    if let Some(object) = fields.as_object_mut() {
        object.insert("event".into(), event.into());
    }
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{fields}");
    let _ = stdout.flush();
}
