//! The loopback redirect (RFC 8252 §7.3): a listener on `127.0.0.1:PORT` that takes the
//! one request the browser makes to `/callback` after the user approved, answers it with a
//! short page, and hands the address it was called at to the sign-in.
//!
//! Networks that check the redirect URI exactly (X, Meta) need the port registered in
//! advance, so the port is fixed ([`DEFAULT_REDIRECT_PORT`] unless told otherwise).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::SignInError;

/// The port of the redirect URI when none is given: `http://127.0.0.1:8750/callback`.
pub const DEFAULT_REDIRECT_PORT: u16 = 8750;

/// The largest request head read from the browser.
const MAX_REQUEST: usize = 16 * 1024;

/// A bound listener waiting for the browser.
#[derive(Debug)]
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

impl Loopback {
    /// Listens on `127.0.0.1:port`.
    pub fn bind(port: u16) -> Result<Loopback, SignInError> {
        let address = format!("127.0.0.1:{port}");
        let listen_error = |e: std::io::Error| SignInError::Listen {
            address: address.clone(),
            reason: e.to_string(),
        };
        let listener = TcpListener::bind(&address).map_err(listen_error)?;
        let port = listener.local_addr().map_err(listen_error)?.port();
        listener.set_nonblocking(true).map_err(listen_error)?;
        Ok(Loopback { listener, port })
    }

    /// `http://127.0.0.1:PORT/callback`: what to register with the network.
    pub fn redirect_uri(&self) -> String {
        redirect_uri(self.port)
    }

    /// Waits up to `timeout` for the browser's request to `/callback` and returns the full
    /// address it called (with the `code` and `state`, or the `error`). Other requests
    /// (a browser's `/favicon.ico`) are answered 404 and waiting goes on.
    pub fn wait(self, timeout: Duration) -> Result<String, SignInError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if let Some(target) = answer(stream) {
                        return Ok(format!("http://127.0.0.1:{}{target}", self.port));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return Err(SignInError::Timeout(timeout));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => {
                    return Err(SignInError::Listen {
                        address: format!("127.0.0.1:{}", self.port),
                        reason: e.to_string(),
                    });
                }
            }
        }
    }
}

/// The redirect URI for `port`.
pub fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/callback")
}

/// Reads one request; answers it, and returns its target when it is `GET /callback?...`.
fn answer(mut stream: TcpStream) -> Option<String> {
    // A browser that connects and says nothing must not hold up the sign-in.
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buffer = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (words.next(), words.next());
    let callback = match (method, target) {
        (Some("GET"), Some(target))
            if target == "/callback" || target.starts_with("/callback?") =>
        {
            Some(target.to_string())
        }
        _ => None,
    };
    let (status, page) = match &callback {
        Some(target) if target.contains("error=") => (
            "200 OK",
            "postctl was not approved. You can close this tab; the terminal says what to do next.",
        ),
        Some(_) => (
            "200 OK",
            "postctl received the sign-in. You can close this tab and return to the terminal.",
        ),
        None => ("404 Not Found", "Not found."),
    };
    let body = format!("<!doctype html><meta charset=utf-8><title>postctl</title><p>{page}</p>\n");
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
    callback
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(port: u16, target: &str) -> String {
        let mut stream =
            TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("connect: {e}"));
        let _ = write!(stream, "GET {target} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    }

    #[test]
    fn the_callback_is_taken_and_other_requests_are_not() {
        let loopback = Loopback::bind(0).unwrap_or_else(|e| panic!("{e}"));
        let port = loopback.port;
        assert_eq!(
            loopback.redirect_uri(),
            format!("http://127.0.0.1:{port}/callback")
        );
        let browser = std::thread::spawn(move || {
            let favicon = get(port, "/favicon.ico");
            let callback = get(port, "/callback?code=c1&state=s1");
            (favicon, callback)
        });
        let got = loopback
            .wait(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            got,
            format!("http://127.0.0.1:{port}/callback?code=c1&state=s1")
        );
        let (favicon, callback) = browser.join().unwrap_or_else(|_| panic!("browser"));
        assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
        assert!(callback.starts_with("HTTP/1.1 200"), "{callback}");
        assert!(callback.contains("return to the terminal"), "{callback}");
    }

    #[test]
    fn nobody_coming_is_a_timeout() {
        let loopback = Loopback::bind(0).unwrap_or_else(|e| panic!("{e}"));
        let error = loopback
            .wait(Duration::from_millis(100))
            .expect_err("no browser came");
        assert!(matches!(error, SignInError::Timeout(_)), "{error}");
    }
}
