//! TLS for every HTTPS request postctl makes: rustls with the ring crypto provider,
//! installed once per process before the first client is built. (ring compiles in seconds;
//! aws-lc, reqwest's default provider, is a large C library.) Certificates are checked
//! against the operating system's trust store by the platform verifier, as reqwest does by
//! default; that verifier is made on the first HTTPS handshake rather than when a client is
//! built, because on Linux it reads and parses every certificate in the trust store (a few
//! milliseconds of each `postctl post`), which a run that speaks only plain HTTP (a server on
//! the local machine) never needs.

use std::sync::{Arc, Once, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// A reqwest client builder with the crypto provider and the TLS settings in place. Every
/// HTTP client in postctl starts here.
pub fn client_builder() -> reqwest::ClientBuilder {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // Fails only when another provider was installed first, which then serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let builder = reqwest::Client::builder();
    match tls_config() {
        Some(config) => builder.use_preconfigured_tls(config),
        // No provider (cannot happen after the install above): reqwest's own settings.
        None => builder,
    }
}

/// What reqwest builds by default (TLS 1.2 and 1.3, SNI, HTTP/1.1 by ALPN, the platform
/// verifier), with the verifier made when first needed.
fn tls_config() -> Option<rustls::ClientConfig> {
    let provider = CryptoProvider::get_default()?.clone();
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(LazyVerifier::new(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Some(config)
}

/// The platform verifier, made on first use and then asked everything.
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl LazyVerifier {
    fn new(provider: Arc<CryptoProvider>) -> LazyVerifier {
        LazyVerifier {
            provider,
            verifier: OnceLock::new(),
        }
    }

    fn get(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| rustls_platform_verifier::Verifier::new(self.provider.clone()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether the trust store has been read (tests).
    #[cfg(test)]
    fn loaded(&self) -> bool {
        self.verifier.get().is_some()
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.get()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        match self.get() {
            Ok(verifier) => verifier.supported_verify_schemes(),
            // The handshake then fails in verify_server_cert, with the reason.
            Err(_) => self
                .provider
                .signature_verification_algorithms
                .supported_schemes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_build_with_the_crypto_provider_in_place() {
        // Without a provider, reqwest refuses to build a rustls client.
        let client = super::client_builder().https_only(true).build();
        assert!(client.is_ok(), "{client:?}");
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
        let config = tls_config().expect("a TLS config");
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
        assert!(config.enable_sni);
    }

    #[test]
    fn the_trust_store_is_read_on_the_first_certificate_and_checks_it() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = LazyVerifier::new(provider);
        assert!(!verifier.loaded(), "read before any handshake");
        // Not a certificate: refused, by the platform verifier made for it.
        let name = ServerName::try_from("example.org").expect("name");
        let checked = verifier.verify_server_cert(
            &CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]),
            &[],
            &name,
            &[],
            UnixTime::now(),
        );
        assert!(checked.is_err(), "{checked:?}");
        assert!(verifier.loaded());
        assert!(!verifier.supported_verify_schemes().is_empty());
    }
}
