//! An SMTP receiver (RFC 5321) for the tests: greeting, `EHLO`/`HELO`, `AUTH PLAIN`
//! (RFC 4616, with or without the initial response), `MAIL FROM`, `RCPT TO`, `DATA`
//! (dot-unstuffed), `RSET`, `NOOP` and `QUIT`. It does not offer STARTTLS, so a client
//! must be told to send without it. With credentials configured, `MAIL` before a
//! successful `AUTH` is refused with 530, a wrong password with 535.
//!
//! Each accepted message is kept whole and read back: its header fields (unfolded, RFC
//! 2047 encoded words decoded) and, for `multipart/alternative`, its `text/plain` and
//! `text/html` parts (quoted-printable and base64 decoded). Failures can be scripted: the
//! next messages answered 451 (temporary) or 550 (permanent) after `DATA`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::lock;

/// One message the receiver accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The `MAIL FROM` address.
    pub mail_from: String,
    /// The `RCPT TO` addresses.
    pub rcpt_to: Vec<String>,
    /// The user `AUTH PLAIN` signed in as, if any.
    pub auth_user: Option<String>,
    /// The header fields, in order, unfolded, encoded words decoded.
    pub headers: Vec<(String, String)>,
    /// The `text/plain` part (or the whole body of a plain message), decoded.
    pub text: Option<String>,
    /// The `text/html` part, decoded.
    pub html: Option<String>,
    /// The message as received after `DATA`.
    pub raw: String,
}

impl ReceivedMail {
    /// The first header field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the receiver answers after the next `DATA`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpReply {
    /// 451: try again later.
    Temporary,
    /// 550: refused for good.
    Permanent,
}

#[derive(Default)]
struct State {
    mails: Vec<ReceivedMail>,
    script: VecDeque<SmtpReply>,
    /// Every `DATA` answered, accepted or not.
    data_commands: usize,
    auth_failures: usize,
}

/// A running SMTP receiver on 127.0.0.1; stops accepting when dropped.
pub struct FakeSmtp {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FakeSmtp {
    /// A receiver that accepts mail without signing in.
    pub fn start() -> FakeSmtp {
        FakeSmtp::start_with(None)
    }

    /// A receiver that asks for `AUTH PLAIN` with this user and password.
    pub fn with_credentials(user: &str, password: &str) -> FakeSmtp {
        FakeSmtp::start_with(Some((user.to_string(), password.to_string())))
    }

    fn start_with(credentials: Option<(String, String)>) -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("the fake SMTP server cannot bind 127.0.0.1:0: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the fake SMTP server has no address: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("the fake SMTP listener: {e}"));
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, stopping) = (state.clone(), stop.clone());
        std::thread::Builder::new()
            .name("fake-smtp".into())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (state, credentials) = (shared.clone(), credentials.clone());
                            std::thread::spawn(move || {
                                let _ = session(stream, &state, credentials.as_ref());
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
            .unwrap_or_else(|e| panic!("the fake SMTP thread: {e}"));
        FakeSmtp { addr, state, stop }
    }

    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The messages accepted so far, in order.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        lock(&self.state).mails.clone()
    }

    /// Every `DATA` answered so far, accepted or refused.
    pub fn data_commands(&self) -> usize {
        lock(&self.state).data_commands
    }

    pub fn auth_failures(&self) -> usize {
        lock(&self.state).auth_failures
    }

    /// Answers the next messages with these replies, in turn, then accepts again.
    pub fn script(&self, replies: &[SmtpReply]) {
        lock(&self.state).script.extend(replies.iter().copied());
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn session(
    stream: TcpStream,
    state: &Mutex<State>,
    credentials: Option<&(String, String)>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    let mut say = |text: &str| -> std::io::Result<()> {
        out.write_all(text.as_bytes())?;
        out.write_all(b"\r\n")?;
        out.flush()
    };
    say("220 fake-smtp.test ESMTP ready")?;
    let mut user: Option<String> = None;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    loop {
        let Some(line) = read_line(&mut input)? else {
            return Ok(());
        };
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO ") {
            say("250-fake-smtp.test greets you")?;
            say("250-AUTH PLAIN")?;
            say("250 8BITMIME")?;
        } else if upper.starts_with("HELO ") {
            say("250 fake-smtp.test")?;
        } else if upper.starts_with("AUTH PLAIN") {
            let initial = line[10..].trim().to_string();
            let response = if initial.is_empty() {
                say("334 ")?;
                read_line(&mut input)?.unwrap_or_default()
            } else {
                initial
            };
            match (plain(&response), credentials) {
                (Some((u, p)), Some((want_u, want_p))) if &u == want_u && &p == want_p => {
                    user = Some(u);
                    say("235 2.7.0 Authentication successful")?;
                }
                (Some((u, _)), None) => {
                    user = Some(u);
                    say("235 2.7.0 Authentication successful")?;
                }
                _ => {
                    lock(state).auth_failures += 1;
                    say("535 5.7.8 Authentication credentials invalid")?;
                }
            }
        } else if upper.starts_with("MAIL FROM:") {
            if credentials.is_some() && user.is_none() {
                say("530 5.7.0 Authentication required")?;
                continue;
            }
            from = Some(address(&line[10..]));
            to.clear();
            say("250 2.1.0 OK")?;
        } else if upper.starts_with("RCPT TO:") {
            if from.is_none() {
                say("503 5.5.1 MAIL first")?;
                continue;
            }
            to.push(address(&line[8..]));
            say("250 2.1.5 OK")?;
        } else if upper == "DATA" {
            if from.is_none() || to.is_empty() {
                say("503 5.5.1 RCPT first")?;
                continue;
            }
            say("354 End data with <CR><LF>.<CR><LF>")?;
            let mut raw = String::new();
            loop {
                let Some(line) = read_line(&mut input)? else {
                    return Ok(());
                };
                if line == "." {
                    break;
                }
                raw.push_str(line.strip_prefix('.').unwrap_or(&line));
                raw.push_str("\r\n");
            }
            let reply = {
                let mut s = lock(state);
                s.data_commands += 1;
                s.script.pop_front()
            };
            match reply {
                Some(SmtpReply::Temporary) => {
                    say("451 4.3.0 Try again later")?;
                }
                Some(SmtpReply::Permanent) => {
                    say("550 5.1.1 Mailbox unavailable")?;
                }
                None => {
                    let mail = parse(
                        from.take().unwrap_or_default(),
                        std::mem::take(&mut to),
                        user.clone(),
                        raw,
                    );
                    lock(state).mails.push(mail);
                    say("250 2.0.0 OK queued")?;
                }
            }
            from = None;
            to.clear();
        } else if upper == "RSET" {
            from = None;
            to.clear();
            say("250 2.0.0 OK")?;
        } else if upper == "NOOP" {
            say("250 2.0.0 OK")?;
        } else if upper == "QUIT" {
            say("221 2.0.0 Bye")?;
            return Ok(());
        } else {
            say("502 5.5.2 Command not recognized")?;
        }
    }
}

fn read_line(input: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

/// `<a@b>` (with optional parameters after it) → `a@b`.
fn address(text: &str) -> String {
    let text = text.trim();
    match (text.find('<'), text.find('>')) {
        (Some(a), Some(b)) if a < b => text[a + 1..b].to_string(),
        _ => text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// `base64("authzid\0user\0password")` → (user, password).
fn plain(response: &str) -> Option<(String, String)> {
    let bytes = STANDARD.decode(response.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.split('\0');
    let _authzid = parts.next()?;
    Some((parts.next()?.to_string(), parts.next()?.to_string()))
}

/// Header fields (unfolded) and the body of an RFC 5322 message (or MIME part).
fn split(raw: &str) -> (Vec<(String, String)>, String) {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .unwrap_or_else(|| (raw.to_string(), String::new()));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    for (_, value) in &mut headers {
        *value = decode_words(value);
    }
    (headers, body)
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A parameter of a header value (`boundary="x"`).
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn parse(
    mail_from: String,
    rcpt_to: Vec<String>,
    auth_user: Option<String>,
    raw: String,
) -> ReceivedMail {
    let (headers, body) = split(&raw);
    let content_type = find(&headers, "Content-Type")
        .unwrap_or("text/plain")
        .to_string();
    let (mut text, mut html) = (None, None);
    if content_type.to_ascii_lowercase().starts_with("multipart/") {
        if let Some(boundary) = parameter(&content_type, "boundary") {
            let delimiter = format!("--{boundary}");
            for part in body.split(&delimiter).skip(1) {
                if part.starts_with("--") {
                    break;
                }
                let part = part.trim_start_matches("\r\n");
                let (part_headers, part_body) = split(part);
                let kind = find(&part_headers, "Content-Type")
                    .unwrap_or("text/plain")
                    .to_ascii_lowercase();
                let decoded = decode_body(&part_headers, part_body.trim_end_matches("\r\n"));
                if kind.starts_with("text/plain") {
                    text = Some(decoded);
                } else if kind.starts_with("text/html") {
                    html = Some(decoded);
                }
            }
        }
    } else {
        text = Some(decode_body(&headers, &body));
    }
    ReceivedMail {
        mail_from,
        rcpt_to,
        auth_user,
        headers,
        text,
        html,
        raw,
    }
}

fn decode_body(headers: &[(String, String)], body: &str) -> String {
    match find(headers, "Content-Transfer-Encoding")
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("base64") => {
            let compact: String = body.split_whitespace().collect();
            STANDARD
                .decode(compact)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default()
        }
        Some("quoted-printable") => quoted_printable(body),
        _ => body.replace("\r\n", "\n"),
    }
}

/// RFC 2045 quoted-printable: `=XX` bytes, `=` at a line's end joins it to the next.
fn quoted_printable(body: &str) -> String {
    let mut bytes = Vec::with_capacity(body.len());
    let lines: Vec<&str> = body.split("\r\n").collect();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_end_matches([' ', '\t']);
        let (line, soft) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (line, false),
        };
        let raw = line.as_bytes();
        let mut j = 0;
        while j < raw.len() {
            if raw[j] == b'='
                && j + 2 < raw.len()
                && let Some(b) = std::str::from_utf8(&raw[j + 1..j + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                bytes.push(b);
                j += 3;
            } else {
                bytes.push(raw[j]);
                j += 1;
            }
        }
        if !soft && i + 1 < lines.len() {
            bytes.push(b'\n');
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`) decoded; whitespace between
/// two encoded words dropped.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        let after = &rest[start + 2..];
        let word = after.split_once('?').and_then(|(charset, tail)| {
            let (encoding, tail) = tail.split_once('?')?;
            let (text, tail) = tail.split_once("?=")?;
            let bytes = match encoding.to_ascii_uppercase().as_str() {
                "B" => STANDARD.decode(text).ok()?,
                "Q" => quoted_printable(&text.replace('_', " ")).into_bytes(),
                _ => return None,
            };
            let _ = charset;
            Some((String::from_utf8_lossy(&bytes).into_owned(), tail))
        });
        match word {
            Some((decoded, tail)) => {
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&decoded);
                rest = tail;
                last_was_word = true;
            }
            None => {
                out.push_str(&rest[..start + 2]);
                rest = after;
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_decode() {
        assert_eq!(quoted_printable("caf=C3=A9 =\r\nau lait"), "café au lait");
        assert_eq!(decode_words("=?utf-8?b?4oCcaGnigJ0=?= there"), "“hi” there");
        assert_eq!(
            decode_words("=?UTF-8?Q?caf=C3=A9_ok?= =?UTF-8?Q?_yes?="),
            "café ok yes"
        );
        assert_eq!(decode_words("plain"), "plain");
        assert_eq!(
            plain("AGJvdABzZWNyZXQ="),
            Some(("bot".into(), "secret".into()))
        );
        assert_eq!(address("<a@b.test> SIZE=10"), "a@b.test");
    }
}
