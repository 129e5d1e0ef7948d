//! The S3 client behind `s3://` destinations: `object_store`'s `AmazonS3`, under the location's prefix.

use std::sync::{Arc, Once};
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, S3ConditionalPut};
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

use crate::{BackupError, S3Location};

/// rustls needs one process-wide crypto provider for https endpoints; ring is the one the server already uses.
pub fn install_tls_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one first: that one serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The object store for `s3`. Never logs or formats the builder: its `Debug` shows the secret.
pub(crate) fn build(s3: &S3Location) -> Result<Arc<dyn ObjectStore>, BackupError> {
    install_tls_provider();
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&s3.bucket)
        .with_region(&s3.region)
        .with_access_key_id(&s3.access_key_id)
        .with_secret_access_key(s3.secret_access_key.expose())
        .with_virtual_hosted_style_request(s3.virtual_hosted)
        // Destination claims are create-only puts (If-None-Match: *).
        .with_conditional_put(S3ConditionalPut::ETagMatch)
        .with_client_options(
            ClientOptions::new()
                .with_timeout(Duration::from_secs(30))
                .with_connect_timeout(Duration::from_secs(5)),
        )
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(5),
                base: 2.0,
            },
            max_retries: 8,
            retry_timeout: Duration::from_secs(60),
        });
    if let Some(token) = &s3.session_token {
        builder = builder.with_token(token.expose());
    }
    if let Some(endpoint) = &s3.endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    // The error names what is wrong with the configuration, never the secret (object_store's config errors
    // name keys, not values); still, it is shown with the location's display form only.
    let store = builder.build().map_err(|e| {
        BackupError::Destination(format!(
            "{}: {}",
            s3.display(),
            redact_error(&e.to_string(), s3)
        ))
    })?;
    Ok(if s3.prefix.is_empty() {
        Arc::new(store)
    } else {
        Arc::new(PrefixStore::new(store, s3.prefix.as_str()))
    })
}

/// An error text with the location's secrets taken out, whatever put them there.
pub(crate) fn redact_error(text: &str, s3: &S3Location) -> String {
    let mut out = text.to_string();
    let mut secrets = vec![s3.secret_access_key.expose()];
    if let Some(t) = &s3.session_token {
        secrets.push(t.expose());
    }
    for s in secrets {
        if !s.is_empty() {
            out = out.replace(s, crate::location::REDACTED);
        }
    }
    out
}
