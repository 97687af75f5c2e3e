//! Incremental Server-Sent Events parser (WHATWG rules) fed with raw network reads.
//!
//! Network reads split the body anywhere: inside a UTF-8 sequence, inside `data:`, between
//! the CR and LF of one line ending. The parser therefore keeps *bytes* until a line is
//! complete and only then decodes it, so a character split across reads is never mangled.
//!
//! Hot path: when a read contains whole lines they are parsed straight out of the read
//! buffer; only the unterminated tail of a read is copied. The one allocation per event is
//! the `String` handed out in [`SseFrame::Data`].

/// One dispatched SSE event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseFrame {
    /// The joined `data:` lines of one event (never empty).
    Data(String),
    /// The `data: [DONE]` sentinel.
    Done,
}

/// Feeds on arbitrary byte chunks (splits anywhere, even inside UTF-8 sequences or
/// between CR and LF) and yields complete events.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the current, not yet terminated line.
    buf: Vec<u8>,
    /// `data:` values of the current event, joined with `\n`.
    data: String,
    /// Whether the current event has seen at least one `data` field.
    has_data: bool,
    /// The previous chunk ended with a CR that terminated a line: a leading LF in the next
    /// chunk belongs to that same line ending (CRLF split across reads).
    skip_lf: bool,
    /// Whether the first bytes were inspected for a UTF-8 byte order mark.
    bom_checked: bool,
}

/// Finds the first CR or LF. Line scanning is the inner loop of the whole engine, so it
/// compares eight bytes at a time before falling back to a byte loop.
fn find_eol(bytes: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const LF: u64 = LO * b'\n' as u64;
    const CR: u64 = LO * b'\r' as u64;
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI != 0;
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        let v = u64::from_le_bytes(word);
        if has_zero(v ^ LF) || has_zero(v ^ CR) {
            break;
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map(|p| p + i)
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `chunk` and pushes every event it completes onto `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<SseFrame>) {
        let mut rest = chunk;
        if !self.bom_checked {
            // A BOM can itself be split across reads; wait until three bytes are known.
            let have = self.buf.len() + rest.len();
            if have < 3 {
                self.buf.extend_from_slice(rest);
                return;
            }
            self.bom_checked = true;
            if !self.buf.is_empty() {
                let mut head = std::mem::take(&mut self.buf);
                head.extend_from_slice(rest);
                if head.starts_with(b"\xEF\xBB\xBF") {
                    head.drain(..3);
                }
                self.push_lines(&head, out);
                return;
            }
            if rest.starts_with(b"\xEF\xBB\xBF") {
                rest = &rest[3..];
            }
        }
        self.push_lines(rest, out);
    }

    fn push_lines(&mut self, chunk: &[u8], out: &mut Vec<SseFrame>) {
        let mut rest = chunk;
        if self.skip_lf && !rest.is_empty() {
            self.skip_lf = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(pos) = find_eol(rest) {
            let line_end = pos;
            let mut next = pos + 1;
            if rest[pos] == b'\r' {
                if next < rest.len() {
                    if rest[next] == b'\n' {
                        next += 1;
                    }
                } else {
                    self.skip_lf = true;
                }
            }
            if self.buf.is_empty() {
                self.line(&rest[..line_end], out);
            } else {
                let mut line = std::mem::take(&mut self.buf);
                line.extend_from_slice(&rest[..line_end]);
                self.line(&line, out);
                line.clear();
                self.buf = line; // keep the capacity for the next split line
            }
            rest = &rest[next..];
        }
        self.buf.extend_from_slice(rest);
    }

    /// Interprets one complete line (without its terminator).
    fn line(&mut self, line: &[u8], out: &mut Vec<SseFrame>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return; // comment, e.g. `: OPENROUTER PROCESSING` keep-alives
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                let value = value.strip_prefix(b" ").unwrap_or(value);
                (&line[..colon], value)
            }
            None => (line, &[][..]),
        };
        // `event:`, `id:` and `retry:` carry nothing we route on (the JSON has `type`).
        if field != b"data" {
            return;
        }
        if self.has_data {
            self.data.push('\n');
        }
        self.has_data = true;
        match std::str::from_utf8(value) {
            Ok(text) => self.data.push_str(text),
            Err(_) => self.data.push_str(&String::from_utf8_lossy(value)),
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseFrame>) {
        if !self.has_data {
            return;
        }
        self.has_data = false;
        if self.data.trim() == "[DONE]" {
            self.data.clear();
            out.push(SseFrame::Done);
        } else if self.data.trim().is_empty() {
            // Empty payloads (`data:` alone) are keep-alives in practice: skip them.
            self.data.clear();
        } else {
            out.push(SseFrame::Data(std::mem::take(&mut self.data)));
        }
    }

    /// End of input. Leniency choice: an unterminated last line is still interpreted and a
    /// pending event that has data is dispatched, instead of being dropped as the WHATWG
    /// algorithm would. A server that closes right after `data: {...}\n` (no blank line)
    /// then still delivers its last event; a truncated JSON payload is rejected later by the
    /// event parser, so nothing half-written is shown as if it were whole.
    pub fn finish(&mut self, out: &mut Vec<SseFrame>) {
        if !self.bom_checked {
            self.bom_checked = true;
            let mut head = std::mem::take(&mut self.buf);
            if head.starts_with(b"\xEF\xBB\xBF") {
                head.drain(..3);
            }
            self.buf = head;
        }
        if !self.buf.is_empty() {
            let line = std::mem::take(&mut self.buf);
            self.line(&line, out);
        }
        self.dispatch(out);
        self.skip_lf = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_chunks(chunks: &[&[u8]]) -> Vec<SseFrame> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, &mut out);
        }
        p.finish(&mut out);
        out
    }

    fn data(s: &str) -> SseFrame {
        SseFrame::Data(s.to_string())
    }

    #[test]
    fn lf_crlf_and_cr_line_ends_are_equivalent() {
        for eol in ["\n", "\r\n", "\r"] {
            let body =
                format!("data: a{eol}{eol}data: b{eol}data: c{eol}{eol}data: [DONE]{eol}{eol}");
            assert_eq!(
                parse_chunks(&[body.as_bytes()]),
                vec![data("a"), data("b\nc"), SseFrame::Done],
                "eol {eol:?}"
            );
        }
    }

    #[test]
    fn crlf_split_between_reads_is_one_line_end() {
        // If the LF after a chunk-final CR were read as a second line end, the event would
        // be dispatched after `a` and `b` would become its own event.
        let out = parse_chunks(&[b"data: a\r", b"\ndata: b\r\n\r\n"]);
        assert_eq!(out, vec![data("a\nb")]);
    }

    #[test]
    fn comments_and_other_fields_are_ignored() {
        let body = b": OPENROUTER PROCESSING\n\nevent: message\nid: 7\nretry: 10\ndata: x\n\n";
        assert_eq!(parse_chunks(&[body]), vec![data("x")]);
    }

    #[test]
    fn data_without_space_and_without_colon() {
        let out = parse_chunks(&[b"data:tight\n\ndata:  two spaces\n\ndata\ndata: z\n\n"]);
        assert_eq!(out, vec![data("tight"), data(" two spaces"), data("\nz")]);
    }

    #[test]
    fn empty_payloads_are_skipped() {
        assert_eq!(
            parse_chunks(&[b"data:\n\ndata: \n\n\n\ndata: y\n\n"]),
            vec![data("y")]
        );
    }

    #[test]
    fn utf8_split_inside_a_character() {
        let body = "data: {\"delta\":\"😀é\"}\n\n".as_bytes();
        for cut in 0..body.len() {
            let out = parse_chunks(&[&body[..cut], &body[cut..]]);
            assert_eq!(out, vec![data("{\"delta\":\"😀é\"}")], "cut at {cut}");
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let out = parse_chunks(&[b"data: a\xFFb\n\n"]);
        assert_eq!(out, vec![data("a\u{FFFD}b")]);
    }

    #[test]
    fn unterminated_last_event_is_dispatched_at_eof() {
        assert_eq!(parse_chunks(&[b"data: tail"]), vec![data("tail")]);
        assert_eq!(parse_chunks(&[b"data: tail\n"]), vec![data("tail")]);
        assert_eq!(parse_chunks(&[b"data: [DONE]"]), vec![SseFrame::Done]);
        assert_eq!(parse_chunks(&[b": only a comment"]), vec![]);
    }

    #[test]
    fn byte_order_mark_is_stripped_even_when_split() {
        assert_eq!(parse_chunks(&[b"\xEF\xBB\xBFdata: a\n\n"]), vec![data("a")]);
        assert_eq!(
            parse_chunks(&[b"\xEF", b"\xBB", b"\xBFdata: a\n\n"]),
            vec![data("a")]
        );
        assert_eq!(parse_chunks(&[b"da", b"ta: a\n\n"]), vec![data("a")]);
    }

    #[test]
    fn find_eol_matches_naive_search() {
        let hay = b"abcdefghijklmnopqrstuvwxyz\rxyz\n".to_vec();
        for start in 0..hay.len() {
            let naive = hay[start..].iter().position(|&b| b == b'\n' || b == b'\r');
            assert_eq!(find_eol(&hay[start..]), naive);
        }
        assert_eq!(find_eol(b"0123456789abcdef"), None);
    }
}
