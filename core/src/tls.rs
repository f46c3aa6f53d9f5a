//! TLS for every HTTPS request postctl makes: rustls with the ring crypto provider,
//! installed once per process before the first client is built. (ring compiles in seconds;
//! aws-lc, reqwest's default provider, is a large C library.) Certificates are checked
//! against the operating system's trust store.

use std::sync::Once;

/// A reqwest client builder with the crypto provider in place. Every HTTP client in
/// postctl starts here.
pub fn client_builder() -> reqwest::ClientBuilder {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // Fails only when another provider was installed first, which then serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
}

#[cfg(test)]
mod tests {
    #[test]
    fn clients_build_with_the_crypto_provider_in_place() {
        // Without a provider, reqwest refuses to build a rustls client.
        let client = super::client_builder().https_only(true).build();
        assert!(client.is_ok(), "{client:?}");
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
