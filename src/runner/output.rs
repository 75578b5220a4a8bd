//! Guests' stdout and stderr: as lines, for an [`EventSink`] that captures
//! them (`warp dev` prefixes them; its `--json` makes them events), or
//! else to the process's own streams through a [`Pipe`]: a bounded buffer
//! that a thread of its own writes out, so that a guest never waits on
//! whoever reads warp's output. What does not fit is dropped, counted and
//! reported ([`Event::OutputDropped`]), never waited on.

use std::collections::VecDeque;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use super::events::{Event, EventSink, Stream};

/// A line longer than this is passed on in pieces of this size.
const MAX_LINE: usize = 16 * 1024;

/// Bytes of guest output a [`Pipe`] holds while its reader is slow; past
/// this, guest writes are dropped.
pub const PIPE_BYTES: usize = 1 << 20;

/// How often dropped output is reported, at most.
const DROP_REPORT_EVERY: Duration = Duration::from_secs(1);

/// The process's stdout or stderr as guests share it: writes are queued
/// (up to [`PIPE_BYTES`]) and a thread of its own writes them out, where
/// waiting on a stalled reader stops nobody else.
pub struct Pipe {
    queue: Mutex<Queue>,
    ready: Condvar,
    /// Dropped bytes not yet reported.
    dropped: AtomicU64,
    last_report: Mutex<Option<Instant>>,
}

#[derive(Default)]
struct Queue {
    chunks: VecDeque<Vec<u8>>,
    bytes: usize,
}

impl Pipe {
    /// The pipe to the process's `stream`, started on first use.
    pub fn of(stream: Stream) -> &'static Pipe {
        static STDOUT: OnceLock<&'static Pipe> = OnceLock::new();
        static STDERR: OnceLock<&'static Pipe> = OnceLock::new();
        let cell = match stream {
            Stream::Stdout => &STDOUT,
            Stream::Stderr => &STDERR,
        };
        cell.get_or_init(|| {
            let pipe: &'static Pipe = Box::leak(Box::new(Pipe::new()));
            let spawned = std::thread::Builder::new().name(format!("warp-guest-{}", stream.name())).spawn(move || {
                pipe.write_out(|bytes| match stream {
                    Stream::Stdout => std::io::stdout().write_all(bytes).and_then(|()| std::io::stdout().flush()),
                    Stream::Stderr => std::io::stderr().write_all(bytes),
                })
            });
            if spawned.is_err() {
                // No writer: everything counts as dropped rather than piling up.
                pipe.queue.lock().unwrap().bytes = PIPE_BYTES;
            }
            pipe
        })
    }

    /// An empty pipe with no writer yet.
    fn new() -> Pipe {
        Pipe {
            queue: Mutex::default(),
            ready: Condvar::new(),
            dropped: AtomicU64::new(0),
            last_report: Mutex::new(None),
        }
    }

    /// Queues `bytes` unless that would pass [`PIPE_BYTES`]; never waits.
    pub fn push(&self, bytes: &[u8]) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if queue.bytes + bytes.len() > PIPE_BYTES {
            drop(queue);
            self.dropped.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            return false;
        }
        queue.bytes += bytes.len();
        queue.chunks.push_back(bytes.to_vec());
        drop(queue);
        self.ready.notify_one();
        true
    }

    /// Dropped bytes to report now: some were dropped and the last report
    /// is at least [`DROP_REPORT_EVERY`] old.
    fn take_report(&self, now: Instant) -> Option<u64> {
        if self.dropped.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut last = self.last_report.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if last.is_some_and(|at| now.duration_since(at) < DROP_REPORT_EVERY) {
            return None;
        }
        *last = Some(now);
        Some(self.dropped.swap(0, Ordering::Relaxed))
    }

    /// The writer thread: hands queued bytes to `write` as they come (an
    /// error, such as a closed pipe, discards them).
    fn write_out(&self, mut write: impl FnMut(&[u8]) -> std::io::Result<()>) {
        loop {
            let chunks = {
                let mut queue = self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                while queue.chunks.is_empty() {
                    queue = self.ready.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                std::mem::take(&mut queue.chunks)
            };
            for chunk in &chunks {
                let _ = write(chunk);
            }
            // The bytes leave the budget only once written.
            let written: usize = chunks.iter().map(Vec::len).sum();
            self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).bytes -= written;
        }
    }
}

/// A guest stream straight to the process's own (through its [`Pipe`]).
pub struct Passthrough {
    pub events: Arc<dyn EventSink>,
    pub stream: Stream,
}

impl IsTerminal for Passthrough {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Passthrough {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(PipeWriter { events: self.events.clone(), stream: self.stream, pipe: Pipe::of(self.stream) })
    }
}

struct PipeWriter {
    events: Arc<dyn EventSink>,
    stream: Stream,
    pipe: &'static Pipe,
}

impl PipeWriter {
    fn report(&self) {
        if let Some(bytes) = self.pipe.take_report(Instant::now()) {
            self.events.emit(&Event::OutputDropped { stream: self.stream, bytes });
        }
    }
}

impl AsyncWrite for PipeWriter {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if !self.pipe.push(buf) {
            self.report();
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        self.report();
    }
}

/// One guest stream, cut into [`Event::GuestOutput`] lines.
pub struct Lines {
    pub events: Arc<dyn EventSink>,
    pub name: String,
    pub stream: Stream,
}

impl IsTerminal for Lines {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Lines {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            events: self.events.clone(),
            name: self.name.clone(),
            stream: self.stream,
            pending: Vec::new(),
        })
    }
}

/// Holds a partial line until its newline (or the end of the stream).
struct LineWriter {
    events: Arc<dyn EventSink>,
    name: String,
    stream: Stream,
    pending: Vec<u8>,
}

impl LineWriter {
    fn emit(&self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.events.emit(&Event::GuestOutput {
            name: self.name.clone(),
            stream: self.stream,
            line: String::from_utf8_lossy(line).into_owned(),
        });
    }

    /// Passes on every complete line in `pending` (and overlong pieces).
    fn drain_lines(&mut self) {
        let mut start = 0;
        while let Some(at) = self.pending[start..].iter().position(|&b| b == b'\n') {
            self.emit(&self.pending[start..start + at]);
            start += at + 1;
        }
        while self.pending.len() - start >= MAX_LINE {
            self.emit(&self.pending[start..start + MAX_LINE]);
            start += MAX_LINE;
        }
        self.pending.drain(..start);
    }

    fn finish(&mut self) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit(&rest);
        }
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.pending.extend_from_slice(buf);
        self.drain_lines();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.finish();
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Collect(Mutex<Vec<String>>);

    impl EventSink for Collect {
        fn emit(&self, event: &Event) {
            if let Event::GuestOutput { line, .. } = event {
                self.0.lock().unwrap().push(line.clone());
            }
        }
    }

    #[test]
    fn output_is_cut_into_lines_and_the_rest_passed_on_at_the_end() {
        let sink = Arc::new(Collect::default());
        let mut writer =
            LineWriter { events: sink.clone(), name: "app".into(), stream: Stream::Stdout, pending: Vec::new() };
        for piece in [&b"one\r\ntw"[..], b"o\n", b"\nthree"] {
            writer.pending.extend_from_slice(piece);
            writer.drain_lines();
        }
        assert_eq!(*sink.0.lock().unwrap(), ["one", "two", ""]);
        drop(writer);
        assert_eq!(*sink.0.lock().unwrap(), ["one", "two", "", "three"]);
    }

    #[test]
    fn a_full_pipe_drops_and_counts_instead_of_waiting() {
        let pipe = Pipe::new();
        assert!(pipe.push(&vec![b'x'; PIPE_BYTES - 1]));
        assert!(!pipe.push(b"yz"), "past the bound");
        assert!(pipe.push(b"y"), "what still fits is taken");
        let now = Instant::now();
        assert_eq!(pipe.take_report(now), Some(2));
        assert!(!pipe.push(b"abc"));
        assert_eq!(pipe.take_report(now + Duration::from_millis(10)), None, "at most one report a second");
        assert_eq!(pipe.take_report(now + DROP_REPORT_EVERY), Some(3));
        assert_eq!(pipe.take_report(now + DROP_REPORT_EVERY * 3), None, "nothing new dropped");
    }

    #[test]
    fn an_overlong_line_is_passed_on_in_pieces() {
        let sink = Arc::new(Collect::default());
        let mut writer =
            LineWriter { events: sink.clone(), name: "app".into(), stream: Stream::Stderr, pending: Vec::new() };
        writer.pending = vec![b'x'; MAX_LINE * 2 + 3];
        writer.drain_lines();
        assert_eq!(sink.0.lock().unwrap().len(), 2);
        assert_eq!(writer.pending.len(), 3);
    }
}
