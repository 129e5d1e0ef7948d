//! Transport security shared by the three listeners: the server's certificate and key (PEM files, loaded once
//! at start), whether plain logins are refused (`--require-tls`, MySQL's `require_secure_transport`), a stream
//! that is plain or TLS, and `tenantry cert create`'s CA and server certificate.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or parsed.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        message: String,
    },
    /// The certificate and key do not make a usable server configuration (a key that is not the certificate's).
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    /// `--require-tls` without a certificate: every login would be refused.
    #[error("--require-tls needs --tls-cert and --tls-key")]
    RequiredWithoutCertificate,
    /// Making a certificate failed.
    #[error("making a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// Writing a certificate or key failed.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// `cert create` would overwrite an existing file.
    #[error("{0} already exists; remove it or choose another --dir")]
    Exists(PathBuf),
}

/// How a listener treats transport security.
#[derive(Clone, Default)]
pub struct Tls {
    acceptor: Option<TlsAcceptor>,
    required: bool,
}

impl Tls {
    /// No certificate: every listener speaks plain text (the default on loopback).
    pub fn plain() -> Self {
        Self::default()
    }

    /// From the command line: the certificate chain and private key files (PEM), if given, and whether
    /// plain-text logins are refused (which needs a certificate).
    pub fn configure(files: Option<(&Path, &Path)>, required: bool) -> Result<Self, TlsError> {
        match files {
            Some((cert, key)) => Self::from_files(cert, key, required),
            None if required => Err(TlsError::RequiredWithoutCertificate),
            None => Ok(Self::plain()),
        }
    }

    /// TLS with the certificate chain in `cert` and the private key in `key` (both PEM); with `required`,
    /// plain-text logins are refused.
    pub fn from_files(cert: &Path, key: &Path, required: bool) -> Result<Self, TlsError> {
        let file_error = |path: &Path, e: &dyn std::fmt::Display| TlsError::File {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| file_error(cert, &e))?
            .collect::<Result<_, _>>()
            .map_err(|e| file_error(cert, &e))?;
        if chain.is_empty() {
            return Err(file_error(cert, &"no certificate in the file"));
        }
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| file_error(key, &e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)?;
        Ok(Self {
            acceptor: Some(TlsAcceptor::from(Arc::new(config))),
            required,
        })
    }

    /// The acceptor, when a certificate is configured.
    pub fn acceptor(&self) -> Option<&TlsAcceptor> {
        self.acceptor.as_ref()
    }

    /// Whether plain-text logins are refused.
    pub fn required(&self) -> bool {
        self.required
    }
}

/// A client connection, plain or upgraded to TLS.
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP (boxed: the TLS state is large).
    Tls(Box<TlsStream<TcpStream>>),
    /// Left behind by a failed upgrade; reads end and writes fail.
    Closed,
}

impl Stream {
    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }

    /// Runs the server side of a TLS handshake on a plain connection and continues over TLS. The client must
    /// not have sent anything past its request for TLS that was already read.
    pub async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        let Self::Plain(tcp) = std::mem::replace(self, Self::Closed) else {
            return Err(io::Error::other("the connection is not plain TCP"));
        };
        let tls = acceptor.accept(tcp).await?;
        *self = Self::Tls(Box::new(tls));
        Ok(())
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Self::Closed => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Self::Closed => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Self::Closed => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Self::Closed => Poll::Ready(Ok(())),
        }
    }
}

/// The files `tenantry cert create` writes into its directory.
pub mod files {
    /// The CA's certificate: what clients trust (`--ssl-ca`, `sslrootcert`, `--cacert`).
    pub const CA_CERT: &str = "ca.crt";
    /// The CA's private key.
    pub const CA_KEY: &str = "ca.key";
    /// The server's certificate, signed by the CA (`--tls-cert`).
    pub const SERVER_CERT: &str = "server.crt";
    /// The server's private key (`--tls-key`).
    pub const SERVER_KEY: &str = "server.key";
}

/// How long the certificates `create_certificates` makes are valid, in days (CockroachDB's CA default is
/// ten years, its node certificates five).
const CA_DAYS: i64 = 3650;
const SERVER_DAYS: i64 = 1825;

/// Makes a CA and a server certificate it signs for `hosts` (DNS names or IP addresses) in `dir`, as
/// `cockroach cert create-ca` and `create-node` do; keys are written owner-only. Refuses to overwrite.
pub fn create_certificates(dir: &Path, hosts: &[String]) -> Result<(), TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let paths = [
        files::CA_CERT,
        files::CA_KEY,
        files::SERVER_CERT,
        files::SERVER_KEY,
    ]
    .map(|f| dir.join(f));
    if let Some(existing) = paths.iter().find(|p| p.exists()) {
        return Err(TlsError::Exists(existing.clone()));
    }
    let now = time::OffsetDateTime::now_utc();
    // A little back-dating tolerates clients whose clocks run behind.
    let not_before = now - time::Duration::hours(1);

    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::OrganizationName, "Tenantry");
    ca.distinguished_name
        .push(DnType::CommonName, "Tenantry CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = not_before;
    ca.not_after = now + time::Duration::days(CA_DAYS);
    let ca_cert = ca.self_signed(&ca_key)?;

    let server_key = KeyPair::generate()?;
    let mut server = CertificateParams::new(hosts.to_vec())?;
    server
        .distinguished_name
        .push(DnType::OrganizationName, "Tenantry");
    server.distinguished_name.push(DnType::CommonName, "node");
    server.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.not_before = not_before;
    server.not_after = now + time::Duration::days(SERVER_DAYS);
    let server_cert = server.signed_by(&server_key, &ca_cert, &ca_key)?;

    fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let [ca_crt, ca_key_path, server_crt, server_key_path] = paths;
    write_file(&ca_crt, &ca_cert.pem(), 0o644)?;
    write_file(&ca_key_path, &ca_key.serialize_pem(), 0o600)?;
    write_file(&server_crt, &server_cert.pem(), 0o644)?;
    write_file(&server_key_path, &server_key.serialize_pem(), 0o600)?;
    Ok(())
}

/// Writes a new file with `mode` from the start (a key is never readable by others, even briefly).
fn write_file(path: &Path, text: &str, mode: u32) -> Result<(), TlsError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let wrap = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(wrap)?;
    f.write_all(text.as_bytes()).map_err(wrap)?;
    f.sync_all().map_err(wrap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_certificates_load_and_keys_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("certs");
        create_certificates(&dir, &["localhost".into(), "127.0.0.1".into()]).unwrap();
        let tls = Tls::from_files(
            &dir.join(files::SERVER_CERT),
            &dir.join(files::SERVER_KEY),
            true,
        )
        .unwrap();
        assert!(tls.acceptor().is_some() && tls.required());
        for key in [files::CA_KEY, files::SERVER_KEY] {
            let mode = fs::metadata(dir.join(key)).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{key} is private");
        }
        // A second run refuses to overwrite.
        assert!(matches!(
            create_certificates(&dir, &["localhost".into()]),
            Err(TlsError::Exists(_))
        ));
        // The CA's key is not the server certificate's.
        assert!(Tls::from_files(
            &dir.join(files::SERVER_CERT),
            &dir.join(files::CA_KEY),
            false
        )
        .is_err());
    }

    #[test]
    fn required_without_a_certificate_is_refused() {
        assert!(matches!(
            Tls::configure(None, true),
            Err(TlsError::RequiredWithoutCertificate)
        ));
        assert!(Tls::configure(None, false).is_ok_and(|t| t.acceptor().is_none()));
    }
}
