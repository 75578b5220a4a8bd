//! Guests' stdout and stderr as lines, for an [`EventSink`] that captures
//! them (`warp dev` prefixes them; its `--json` makes them events).
//! Without such a sink, guests write to the process's own streams.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use super::events::{Event, EventSink, Stream};

/// A line longer than this is passed on in pieces of this size.
const MAX_LINE: usize = 16 * 1024;

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
