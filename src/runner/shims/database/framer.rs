//! Cuts a byte stream that arrives in arbitrary pieces into length-prefixed
//! messages, for the protocols the proxy follows.

/// How much of a message body is kept when not all of it is wanted: enough
/// for the fields the proxy reads (a MySQL OK packet's status flags, a
/// Postgres `ReadyForQuery`).
pub const PREFIX: usize = 32;

/// The message formats: how long the header is, and the body length it
/// gives (`None` for a header that cannot be right).
#[derive(Debug, Clone, Copy)]
pub enum Format {
    /// Postgres: a type byte, then a big-endian length that counts itself.
    Postgres,
    /// MySQL: a little-endian 3-byte length, then a sequence id.
    Mysql,
}

impl Format {
    fn header_len(self) -> usize {
        match self {
            Format::Postgres => 5,
            Format::Mysql => 4,
        }
    }

    fn body_len(self, header: &[u8]) -> Option<usize> {
        match self {
            Format::Postgres => (u32::from_be_bytes(header[1..5].try_into().ok()?) as usize).checked_sub(4),
            Format::Mysql => Some(u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize),
        }
    }
}

/// A whole message: its header, the body's length and the body kept.
#[derive(Debug, PartialEq, Eq)]
pub struct Message {
    pub header: Vec<u8>,
    pub len: usize,
    pub body: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct Framer {
    header: Vec<u8>,
    len: usize,
    remaining: usize,
    body: Vec<u8>,
    /// A header that cannot be right was seen: nothing more is cut.
    pub broken: bool,
}

impl Framer {
    /// The next whole `format` message in `rest` (which is advanced past
    /// it), with all of its body when `keep_all`, else the first [`PREFIX`]
    /// bytes.
    pub fn next(&mut self, format: Format, rest: &mut &[u8], keep_all: bool) -> Option<Message> {
        if self.broken {
            return None;
        }
        let header_len = format.header_len();
        if self.header.len() < header_len {
            let take = (header_len - self.header.len()).min(rest.len());
            self.header.extend_from_slice(&rest[..take]);
            *rest = &rest[take..];
            if self.header.len() < header_len {
                return None;
            }
            let Some(len) = format.body_len(&self.header) else {
                self.broken = true;
                return None;
            };
            (self.len, self.remaining) = (len, len);
            self.body.clear();
        }
        let take = self.remaining.min(rest.len());
        let keep = if keep_all { take } else { PREFIX.saturating_sub(self.body.len()).min(take) };
        self.body.extend_from_slice(&rest[..keep]);
        self.remaining -= take;
        *rest = &rest[take..];
        if self.remaining > 0 {
            return None;
        }
        Some(Message { header: std::mem::take(&mut self.header), len: self.len, body: std::mem::take(&mut self.body) })
    }

    /// Between messages, and not broken.
    pub fn at_boundary(&self) -> bool {
        self.header.is_empty() && !self.broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_whole_however_the_bytes_arrive() {
        let stream = [&b"Z\0\0\0\x05I"[..], b"D\0\0\0\x08abcd", b"C\0\0\0\x04"].concat();
        for split in 0..stream.len() {
            let mut framer = Framer::default();
            let mut got = Vec::new();
            for piece in [&stream[..split], &stream[split..]] {
                let mut rest = piece;
                while let Some(message) = framer.next(Format::Postgres, &mut rest, split % 2 == 0) {
                    got.push((message.header[0], message.body));
                }
            }
            assert_eq!(got, [(b'Z', b"I".to_vec()), (b'D', b"abcd".to_vec()), (b'C', vec![])], "split at {split}");
            assert!(framer.at_boundary());
        }
    }

    #[test]
    fn only_a_prefix_is_kept_unless_asked_and_bad_lengths_break() {
        let mut framer = Framer::default();
        let packet = [&[40u8, 0, 0, 3][..], &[7; 40]].concat();
        let message = framer.next(Format::Mysql, &mut &packet[..], false).unwrap();
        assert_eq!((message.header[3], message.len, message.body.len()), (3, 40, PREFIX));

        let mut framer = Framer::default();
        assert_eq!(framer.next(Format::Postgres, &mut &b"Z\0\0\0\x02"[..], true), None);
        assert!(framer.broken && !framer.at_boundary());
    }
}
