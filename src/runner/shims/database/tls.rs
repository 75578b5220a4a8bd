//! TLS from the proxy to a database (`tls = true`), with rustls. The guest
//! speaks plaintext to the proxy (its connection never leaves the host);
//! the proxy verifies the server's certificate against the endpoint's `ca`
//! bundle, or the Mozilla roots without one, and the endpoint's `host`.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::error::Diagnostic;
use crate::manifest::Manifest;

/// A client configuration per `shims.database` entry (`None` without TLS).
pub type Configs = Vec<Option<Arc<ClientConfig>>>;

/// The manifest's TLS settings, read and checked (exit 2 naming the field).
pub fn configs(manifest: &Manifest, manifest_path: &Path) -> anyhow::Result<Configs> {
    let base = manifest_path.parent().unwrap_or(Path::new("."));
    let mut configs = Vec::with_capacity(manifest.shims.database.len());
    for (index, database) in manifest.shims.database.iter().enumerate() {
        if !database.tls {
            configs.push(None);
            continue;
        }
        let mut roots = RootCertStore::empty();
        match &database.ca {
            Some(ca) => {
                let path = base.join(ca);
                let field = format!("shims.database[{index}].ca");
                let unreadable = |reason: String| {
                    Diagnostic::env(format!("`{}` (field `{field}`): {reason}", path.display()))
                        .help("give a PEM file of the CA certificates that sign the server's certificate")
                };
                let certs = CertificateDer::pem_file_iter(&path)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| unreadable(format!("not a readable PEM file: {e}")))?;
                if certs.is_empty() {
                    return Err(unreadable("holds no certificates".into()).into());
                }
                for cert in certs {
                    roots.add(cert).map_err(|e| unreadable(format!("a certificate is not usable: {e}")))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow::anyhow!("TLS setup failed: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        configs.push(Some(Arc::new(config)));
    }
    Ok(configs)
}

/// A TLS session over `tcp`, verified for `host`; the reason when it fails.
pub async fn connect(config: Arc<ClientConfig>, host: &str, tcp: TcpStream) -> Result<TlsStream<TcpStream>, String> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| format!("`{host}` is not a name a certificate can be checked against: {e}"))?;
    TlsConnector::from(config).connect(name, tcp).await.map_err(|e| format!("TLS handshake failed: {e}"))
}

/// A connection to a server: TCP, or TLS over it.
pub enum Stream {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Between the two, while the handshake runs (or after it failed).
    Gone,
}

impl Stream {
    /// Starts TLS on a TCP stream (MySQL does so mid-handshake).
    pub async fn upgrade(&mut self, config: Arc<ClientConfig>, host: &str) -> Result<(), String> {
        match std::mem::replace(self, Stream::Gone) {
            Stream::Tcp(tcp) => {
                *self = Stream::Tls(Box::new(connect(config, host, tcp).await?));
                Ok(())
            }
            other => {
                *self = other;
                Err("TLS was already started".into())
            }
        }
    }
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the connection was lost while starting TLS")
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
}
