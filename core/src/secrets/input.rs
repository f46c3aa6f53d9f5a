use std::io::Read;

use zeroize::Zeroizing;

use super::{Secret, SecretError};

/// More than any token, key or webhook URL; a bigger input is the wrong file.
const MAX_INPUT: usize = 64 * 1024;

/// Reads one secret from `r` (stdin for `--token-stdin`).
///
/// Surrounding whitespace, including the trailing newline that editors and `echo` add,
/// is trimmed. Empty input, several lines, non-UTF-8 text and more than 64 KiB are
/// errors that say how to pipe the secret in.
pub fn read_secret(r: impl Read) -> Result<Secret, SecretError> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(256));
    r.take(MAX_INPUT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(SecretError::ReadInput)?;
    if bytes.len() > MAX_INPUT {
        return Err(SecretError::InputTooLong { max: MAX_INPUT });
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| SecretError::InputNotText)?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(SecretError::EmptyInput);
    }
    if trimmed.contains(['\n', '\r']) {
        return Err(SecretError::MultiLineInput);
    }
    Ok(Secret::new(trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_rejects() {
        let long = vec![b'a'; MAX_INPUT + 1];
        let cases: [(&[u8], Result<&str, &str>); 10] = [
            (b"token", Ok("token")),
            (b"token\n", Ok("token")),
            (b"token\r\n", Ok("token")),
            (b"  token \t\n\n", Ok("token")),
            (
                b"https://hooks.slack.com/services/T1/B2/x\n",
                Ok("https://hooks.slack.com/services/T1/B2/x"),
            ),
            (b"", Err("EmptyInput")),
            (b"\n  \n", Err("EmptyInput")),
            (b"one\ntwo\n", Err("MultiLineInput")),
            (b"\xff\xfe", Err("InputNotText")),
            (&long, Err("InputTooLong")),
        ];
        for (input, want) in cases {
            let got = read_secret(input)
                .map(|s| s.expose().to_owned())
                .map_err(|e| {
                    let name = format!("{e:?}");
                    name.split([' ', '{', '('])
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                });
            assert_eq!(
                got,
                want.map(str::to_owned).map_err(str::to_owned),
                "{input:?}"
            );
        }
    }

    #[test]
    fn empty_input_says_how_to_pipe() {
        let message = read_secret(&b""[..])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("--token-stdin < token.txt"), "{message}");
    }

    #[test]
    fn exactly_the_limit_is_accepted() {
        let input = vec![b'k'; MAX_INPUT];
        let got = read_secret(&input[..]).map(|s| s.expose().len());
        assert_eq!(got.ok(), Some(MAX_INPUT));
    }
}
