//! Server-sent events, decoded as bytes arrive: the `text/event-stream` framing both model
//! APIs stream in. Lines end with LF, CRLF or CR; `event:` names the event, `data:` lines
//! are joined with LF, a line starting with `:` is a comment (keep-alive), and a blank line
//! dispatches the event.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The `event:` field; `None` when the event had none (OpenAI-compatible streams).
    pub event: Option<String>,
    pub data: String,
}

/// Decodes a byte stream into [`Frame`]s; bytes may be split anywhere, even inside a UTF-8
/// character.
#[derive(Debug, Default)]
pub struct Decoder {
    pending: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
    /// The last byte fed was a CR, so a LF at the start of the next chunk ends nothing.
    after_cr: bool,
}

impl Decoder {
    /// Feeds `bytes` and returns the events they completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        for &byte in bytes {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    continue;
                }
            }
            match byte {
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.pending);
                    if let Some(frame) = self.line(&String::from_utf8_lossy(&line)) {
                        frames.push(frame);
                    }
                }
                _ => self.pending.push(byte),
            }
        }
        frames
    }

    /// Whether a partial event is waiting for more bytes (a stream that ends here was cut).
    pub fn has_partial(&self) -> bool {
        !self.pending.is_empty() || self.data.is_some()
    }

    fn line(&mut self, line: &str) -> Option<Frame> {
        if line.is_empty() {
            let data = self.data.take();
            let event = self.event.take();
            return data.map(|data| Frame { event, data });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            // `id` and `retry` are for reconnecting browsers; a model stream is not resumed.
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(event: Option<&str>, data: &str) -> Frame {
        Frame {
            event: event.map(str::to_string),
            data: data.to_string(),
        }
    }

    #[test]
    fn decodes_named_events_split_anywhere() {
        let stream =
            "event: message_start\ndata: {\"a\":1}\n\n: keep-alive\n\nevent: ping\ndata: {}\n\n";
        for cut in 0..stream.len() {
            let mut decoder = Decoder::default();
            let mut frames = decoder.feed(&stream.as_bytes()[..cut]);
            frames.extend(decoder.feed(&stream.as_bytes()[cut..]));
            assert_eq!(
                frames,
                vec![
                    frame(Some("message_start"), "{\"a\":1}"),
                    frame(Some("ping"), "{}")
                ],
                "cut at {cut}"
            );
            assert!(!decoder.has_partial());
        }
    }

    #[test]
    fn crlf_cr_multiline_data_and_unnamed_events() {
        let mut decoder = Decoder::default();
        let frames = decoder.feed(b"data: one\r\ndata:two\r\n\r\ndata: [DONE]\r\r");
        assert_eq!(frames, vec![frame(None, "one\ntwo"), frame(None, "[DONE]")]);
    }

    #[test]
    fn utf8_split_inside_a_character() {
        let text = "data: caf\u{e9} \u{1f680}\n\n".as_bytes();
        let mut decoder = Decoder::default();
        let mut frames = Vec::new();
        for byte in text {
            frames.extend(decoder.feed(std::slice::from_ref(byte)));
        }
        assert_eq!(frames, vec![frame(None, "caf\u{e9} \u{1f680}")]);
    }

    #[test]
    fn a_stream_that_stops_mid_event_has_a_partial() {
        let mut decoder = Decoder::default();
        assert!(
            decoder
                .feed(b"event: content_block_delta\ndata: {\"te")
                .is_empty()
        );
        assert!(decoder.has_partial());
        let mut decoder = Decoder::default();
        decoder.feed(b"data: {}\n");
        assert!(
            decoder.has_partial(),
            "data without the blank line is not dispatched"
        );
    }

    #[test]
    fn events_without_data_are_not_dispatched() {
        let mut decoder = Decoder::default();
        assert!(
            decoder
                .feed(b"event: ping\n\nretry: 10\nid: 3\n\n")
                .is_empty()
        );
    }
}
