//! A minimal blocking HTTP/1.1 client for TAXII peers, over plain TCP or
//! TLS (rustls, certificates verified against a CA file or the Mozilla
//! roots): one request per connection, `Content-Length` and chunked bodies,
//! a hard cap on the response size. Used by federation, benchmarks and tests.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;

/// Largest response body accepted.
pub const MAX_RESPONSE: usize = 512 * 1024 * 1024;

/// A response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn invalid(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.to_string())
}

/// How requests reach a server: plain TCP, or TLS with verified certificates.
#[derive(Clone, Default)]
pub struct Connector {
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Connector {
    /// Plain HTTP.
    pub fn plain() -> Connector {
        Connector { tls: None }
    }

    /// HTTPS, trusting the certificates of the PEM file `ca_file` or, without
    /// one, the Mozilla root certificates. Server certificates are always
    /// verified, including the host name.
    pub fn tls(ca_file: Option<&Path>) -> std::io::Result<Connector> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut roots = rustls::RootCertStore::empty();
        match ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    std::io::Error::new(e.kind(), format!("CA file {}: {e}", path.display()))
                })?;
                let mut found = 0;
                for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                    let cert =
                        cert.map_err(|e| invalid(&format!("CA file {}: {e}", path.display())))?;
                    roots.add(cert).map_err(|e| {
                        invalid(&format!("CA file {}: certificate: {e}", path.display()))
                    })?;
                    found += 1;
                }
                if found == 0 {
                    return Err(invalid(&format!(
                        "CA file {}: no PEM certificate in it",
                        path.display()
                    )));
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Connector {
            tls: Some(Arc::new(config)),
        })
    }

    /// Whether this connector speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Sends one request to `addr` (`host:port`) and reads the whole response.
    pub fn request(
        &self,
        addr: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> std::io::Result<HttpResponse> {
        let tcp = TcpStream::connect(addr)?;
        tcp.set_read_timeout(Some(Duration::from_secs(300)))?;
        tcp.set_nodelay(true)?;
        match &self.tls {
            None => exchange(tcp, addr, method, path, headers, body),
            Some(config) => {
                let host = host_of(addr);
                let name = ServerName::try_from(host.to_string())
                    .map_err(|_| invalid(&format!("{host:?} is not a valid TLS server name")))?;
                let conn = rustls::ClientConnection::new(config.clone(), name)
                    .map_err(|e| invalid(&format!("TLS: {e}")))?;
                exchange(
                    rustls::StreamOwned::new(conn, tcp),
                    addr,
                    method,
                    path,
                    headers,
                    body,
                )
            }
        }
    }
}

/// The host part of `host:port` (brackets of an IPv6 literal removed).
fn host_of(addr: &str) -> &str {
    let host = match addr.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => addr,
    };
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Sends one plain-HTTP request to `addr` (`host:port`) and reads the whole response.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<HttpResponse> {
    Connector::plain().request(addr, method, path, headers, body)
}

fn exchange(
    mut s: impl Read + Write,
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<HttpResponse> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    if let Some(b) = body {
        s.write_all(b)?;
    }
    s.flush()?;
    let mut raw = Vec::new();
    // A TLS peer may close the connection without close_notify; the
    // response is then accepted only if its framing says it is complete.
    let mut cut_short = false;
    if let Err(e) = s
        .take(MAX_RESPONSE as u64 + 64 * 1024)
        .read_to_end(&mut raw)
    {
        if e.kind() != std::io::ErrorKind::UnexpectedEof {
            return Err(e);
        }
        cut_short = true;
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        let declared = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok());
        match declared {
            Some(n) if rest.len() >= n => rest[..n].to_vec(),
            Some(n) => {
                return Err(invalid(&format!(
                    "response body truncated: {} of {n} bytes",
                    rest.len()
                )))
            }
            None if cut_short => {
                return Err(invalid("connection closed before the response ended"))
            }
            None => rest.to_vec(),
        }
    };
    if body.len() > MAX_RESPONSE {
        return Err(invalid("response too large"));
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| invalid("truncated chunk size"))?;
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| invalid("bad chunk size"))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = data.get(..size).ok_or_else(|| invalid("truncated chunk"))?;
        out.extend_from_slice(chunk);
        data = data
            .get(size + 2..)
            .ok_or_else(|| invalid("truncated chunk end"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks() {
        assert_eq!(
            dechunk(b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\n\r\n").unwrap(),
            b"Wikipedia"
        );
        assert!(dechunk(b"zz\r\n").is_err());
        assert!(dechunk(b"10\r\nshort").is_err());
    }

    #[test]
    fn host_names_for_tls() {
        assert_eq!(host_of("hub.example:8443"), "hub.example");
        assert_eq!(host_of("127.0.0.1:443"), "127.0.0.1");
        assert_eq!(host_of("[::1]:8443"), "::1");
        assert_eq!(host_of("hub.example"), "hub.example");
    }
}
