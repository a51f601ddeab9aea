//! AWS SDK configuration, loaded once per cold start. Region, credentials and
//! endpoints come from the SDK's own variables (`AWS_REGION`,
//! `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SESV2`, ...).
//!
//! The HTTPS client is built here rather than taken from the SDK's default,
//! because that one reads the system's whole certificate store (some 150
//! files on Debian, a bundle on Amazon Linux) at every cold start. This one is
//! the same client otherwise: rustls on aws-lc (with the hybrid post-quantum
//! key exchange AWS endpoints offer), the proxy from `HTTPS_PROXY` /
//! `HTTP_PROXY` / `NO_PROXY`. It trusts the roots AWS service endpoints chain
//! to, compiled in (`aws_roots.pem`: Amazon Root CA 1-4 and Starfield
//! Services Root G2, the Amazon Trust Services roots), plus the PEM bundle
//! `AWS_CA_BUNDLE` names: the SDKs' standard variable for a TLS-inspecting
//! proxy's or a private endpoint's certificate authority. `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` are not read.

use std::time::Duration;

use anyhow::Context;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The roots AWS service endpoints' certificates chain to (Amazon Trust
/// Services), as published by Mozilla's root program.
pub const AWS_ROOTS_PEM: &str = include_str!("aws_roots.pem");

/// The shared SDK configuration with tight timeouts: a Lambda request should
/// fail fast (and answer 503) rather than hang on a dead endpoint. Fails
/// when `AWS_CA_BUNDLE` is set but names no readable file of certificates.
pub async fn sdk_config() -> anyhow::Result<SdkConfig> {
    let ca_bundle = match std::env::var_os("AWS_CA_BUNDLE").filter(|v| !v.is_empty()) {
        Some(path) => Some(
            std::fs::read(&path)
                .with_context(|| format!("AWS_CA_BUNDLE {}", path.to_string_lossy()))?,
        ),
        None => None,
    };
    let http_client = https_client(ca_bundle, ProxyConfig::from_env())?;
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(50)),
        )
        .load()
        .await)
}

/// The HTTPS (and plain HTTP, for local endpoints) client, built as the
/// SDK's default one is but trusting [`AWS_ROOTS_PEM`] and the certificates
/// of `extra_pem`, through `proxy`.
pub fn https_client(
    extra_pem: Option<Vec<u8>>,
    proxy: ProxyConfig,
) -> anyhow::Result<SharedHttpClient> {
    let mut trust = TrustStore::empty().with_pem_certificate(AWS_ROOTS_PEM.as_bytes());
    if let Some(pem) = extra_pem {
        // The SDK adds these when a client is built, and panics on one it
        // cannot parse: check them the same way first, so that a wrong
        // bundle fails the cold start with its reason.
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .context("AWS_CA_BUNDLE is not a PEM file")?;
        anyhow::ensure!(!certs.is_empty(), "AWS_CA_BUNDLE holds no certificate");
        let mut roots = rustls::RootCertStore::empty();
        for cert in certs {
            roots
                .add(cert)
                .context("AWS_CA_BUNDLE holds a certificate that cannot be parsed")?;
        }
        trust = trust.with_pem_certificate(pem);
    }
    let tls = TlsContext::builder().with_trust_store(trust).build()?;
    Ok(
        Builder::new().build_with_connector_fn(move |settings, components| {
            let mut connector = ConnectorBuilder::default()
                .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                .tls_context(tls.clone());
            connector.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector.set_proxy_config(Some(proxy.clone()));
            connector.build()
        }),
    )
}

/// Service error codes that mean "try again later" (throttling, contention,
/// a failing service). Anything else from a service is our fault or the
/// deployment's (validation, access denied, missing table, rejected mail).
const TRANSIENT_CODES: &[&str] = &[
    "InternalFailure",
    "InternalServerError",
    "LimitExceededException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "ThrottlingException",
    "TooManyRequestsException",
    "TransactionCanceledException",
    "TransactionConflictException",
    "TransactionInProgressException",
];

/// Whether an SDK failure is transient (answer 503, retry later) rather than
/// a bug or a misconfiguration (answer 500). Any 5xx from the service is
/// transient, also one whose body the SDK cannot read (an HTML error page
/// from a proxy or a failing front end).
pub fn is_transient<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            service.raw().status().is_server_error()
                || err.code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_roots_are_the_five_amazon_trust_services_roots() {
        let certs =
            CertificateDer::pem_slice_iter(AWS_ROOTS_PEM.as_bytes()).collect::<Result<Vec<_>, _>>();
        assert!(matches!(certs.as_deref(), Ok([_, _, _, _, _])), "{certs:?}");
    }

    fn client(pem: Option<&[u8]>) -> anyhow::Result<SharedHttpClient> {
        https_client(pem.map(<[u8]>::to_vec), ProxyConfig::disabled())
    }

    #[test]
    fn a_ca_bundle_without_certificates_is_refused() {
        assert!(client(Some(b"not a certificate")).is_err());
        assert!(
            client(Some(
                b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"
            ))
            .is_err()
        );
        // Valid base64 in a certificate's armour, but no certificate: the
        // SDK would panic on it when building a client.
        assert!(
            client(Some(
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
            ))
            .is_err()
        );
        assert!(client(Some(&AWS_ROOTS_PEM.as_bytes()[..1000])).is_err());
        assert!(client(Some(AWS_ROOTS_PEM.as_bytes())).is_ok());
        assert!(client(None).is_ok());
    }
}
