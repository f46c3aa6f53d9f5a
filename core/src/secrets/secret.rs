use std::fmt;

use zeroize::Zeroizing;

/// A secret value (token, app password, webhook URL, key).
///
/// Deliberately not `Clone`, `Serialize` or `Display`: the only way to the text is
/// [`Secret::expose`], so every use is greppable. `Debug` prints `Secret(***)`, and the
/// memory is zeroed on drop.
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(Zeroizing::new(s))
    }

    /// The secret text, for the one place that sends it (an HTTP header, the keyring).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_expose_returns_the_text() {
        let cases = ["xoxb-123-456", "", "pässwörd with spaces"];
        for text in cases {
            let secret = Secret::new(text.to_owned());
            assert_eq!(format!("{secret:?}"), "Secret(***)");
            assert_eq!(format!("{secret:#?}"), "Secret(***)");
            assert_eq!(secret.expose(), text);
            // Debug of a struct that holds one must not leak it either.
            let holder = Some(secret);
            assert_eq!(format!("{holder:?}"), "Some(Secret(***))");
        }
    }
}
