//! Which observable kind a STIX object path names, and how values of each kind
//! are normalised so that indicators and observations compare equal.

use std::net::IpAddr;

use vigil_artefact::ObservableKind;

/// Maps a STIX object type and property path to the observable kind the scanner checks.
///
/// Hash keys are accepted in every spelling real feeds use (`hashes.'SHA-256'`,
/// `hashes.sha256`, `hashes.SHA256`, `hashes.MD5` …). Returns `None` for paths
/// no reader produces.
pub fn kind_for_path(object_type: &str, path: &str) -> Option<ObservableKind> {
    use ObservableKind as K;
    let path = path.trim();
    Some(match (object_type, path) {
        ("domain-name", "value") => K::Domain,
        ("url", "value") => K::Url,
        ("ipv4-addr", "value") => K::Ipv4,
        ("ipv6-addr", "value") => K::Ipv6,
        ("email-addr", "value") => K::Email,
        ("email-message", "from_ref.value" | "sender_ref.value") => K::Email,
        ("file", p) if p.starts_with("hashes.") => K::FileHash,
        ("file", "name") => K::FileName,
        ("file", "path" | "parent_directory_ref.path") => K::FilePath,
        ("directory", "path") => K::FilePath,
        ("process", "name" | "image_ref.name") => K::ProcessName,
        ("app", "id") => K::AppId,
        ("app", p) if p == "cert" || p.starts_with("cert.") => K::AppCertHash,
        ("android-property", "name") => K::AndroidProperty,
        ("configuration-profile", "id") => K::ConfigurationProfileId,
        _ => return None,
    })
}

/// STIX cyber-observable objects for observables, keyed `0`, `1` … for the evaluator.
pub(crate) fn scos(observables: &[vigil_artefact::Observable]) -> Vec<(String, serde_json::Value)> {
    use serde_json::json;
    use ObservableKind as K;
    let mut out = Vec::with_capacity(observables.len());
    for o in observables {
        let v = o.value.as_str();
        let sco = match o.kind {
            K::Domain => json!({"type": "domain-name", "value": v}),
            K::Url => json!({"type": "url", "value": v}),
            K::Ipv4 => json!({"type": "ipv4-addr", "value": v}),
            K::Ipv6 => json!({"type": "ipv6-addr", "value": v}),
            K::Email => json!({"type": "email-addr", "value": v}),
            K::FileHash => {
                let algo = match v.len() {
                    32 => "MD5",
                    40 => "SHA-1",
                    128 => "SHA-512",
                    _ => "SHA-256",
                };
                json!({"type": "file", "hashes": {algo: v}})
            }
            K::FileName => json!({"type": "file", "name": v}),
            K::FilePath => {
                let name = v.rsplit('/').next().unwrap_or(v);
                json!({"type": "file", "name": name, "path": v})
            }
            K::ProcessName => json!({"type": "process", "name": v}),
            K::AppId => json!({"type": "app", "id": v}),
            K::AppCertHash => json!({"type": "app", "cert": {"sha256": v}}),
            K::AndroidProperty => json!({"type": "android-property", "name": v}),
            K::ConfigurationProfileId => json!({"type": "configuration-profile", "id": v}),
        };
        out.push((out.len().to_string(), sco));
    }
    out
}

/// Normalises a domain name: trims blanks and a trailing dot, lower-cases ASCII.
pub fn normalise_domain(raw: &str) -> String {
    raw.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Normalises a URL for exact comparison.
///
/// Lower-cases scheme and host, drops user info, default ports and the
/// fragment, and writes an empty path as `/`. A URL without a scheme is read
/// as `http://`. Returns `None` when there is no host.
pub fn normalise_url(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (scheme, rest) = match raw.find("://") {
        Some(i) => (raw[..i].to_ascii_lowercase(), &raw[i + 3..]),
        None => ("http".to_string(), raw),
    };
    let rest = rest.split('#').next().unwrap_or("");
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let hostport = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = split_port(hostport);
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let default_port = matches!(
        (scheme.as_str(), port),
        ("http", Some("80")) | ("https", Some("443"))
    );
    let mut out = String::with_capacity(raw.len() + 1);
    out.push_str(&scheme);
    out.push_str("://");
    out.push_str(&host);
    if let (Some(p), false) = (port, default_port) {
        out.push(':');
        out.push_str(p);
    }
    if !tail.starts_with('/') {
        out.push('/');
    }
    out.push_str(tail);
    Some(out)
}

/// The host part of a URL as written (no port, no brackets), or `None`.
pub fn url_host(raw: &str) -> Option<&str> {
    let raw = raw.trim();
    let rest = match raw.find("://") {
        Some(i) => &raw[i + 3..],
        None => raw,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let hostport = authority.rsplit('@').next().unwrap_or("");
    let (host, _) = split_port(hostport);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then_some(host)
}

fn split_port(hostport: &str) -> (&str, Option<&str>) {
    if let Some(stripped) = hostport.strip_prefix('[') {
        // [v6]:port
        return match stripped.find(']') {
            Some(i) => {
                let host = &hostport[..i + 2];
                let port = hostport[i + 2..].strip_prefix(':');
                (host, port.filter(|p| !p.is_empty()))
            }
            None => (hostport, None),
        };
    }
    match hostport.rfind(':') {
        // A bare IPv6 address has several colons and no port.
        Some(i) if hostport[..i].contains(':') => (hostport, None),
        Some(i) => (
            &hostport[..i],
            Some(&hostport[i + 1..]).filter(|p| !p.is_empty()),
        ),
        None => (hostport, None),
    }
}

/// Parses `addr` or `addr/prefix`; the prefix defaults to the full length.
pub(crate) fn parse_cidr(raw: &str) -> Option<(IpAddr, u8)> {
    let raw = raw.trim();
    let (addr, prefix) = match raw.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (raw, None),
    };
    let bare = addr_part(addr);
    // Names are by far the most common value here: no address parser for them.
    if !bare
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
        || (!bare.contains(':') && !bare.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
    {
        return None;
    }
    let addr: IpAddr = bare.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
        None => max,
    };
    Some((addr, prefix))
}

/// An address as written, without the brackets of `[v6]`.
fn addr_part(a: &str) -> &str {
    a.trim_start_matches('[').trim_end_matches(']')
}

fn is_hex_hash(v: &str) -> bool {
    matches!(v.len(), 32 | 40 | 64 | 128) && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Normalises an indicator value for its kind, or says why it cannot be used.
pub(crate) fn normalise_term(kind: ObservableKind, raw: &str) -> Result<String, String> {
    use ObservableKind as K;
    let v = raw.trim();
    if v.is_empty() {
        return Err("empty value".into());
    }
    Ok(match kind {
        K::Domain => {
            let d = normalise_domain(v);
            if d.is_empty() || d.contains(['/', ' ']) {
                return Err(format!("'{v}' is not a domain name"));
            }
            d
        }
        K::Url => normalise_url(v).ok_or_else(|| format!("'{v}' is not a URL with a host"))?,
        K::Ipv4 | K::Ipv6 => {
            let (addr, prefix) =
                parse_cidr(v).ok_or_else(|| format!("'{v}' is not an IP address or CIDR range"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            if prefix == max {
                addr.to_string()
            } else {
                format!("{addr}/{prefix}")
            }
        }
        K::FileHash | K::AppCertHash => {
            let h = v.to_ascii_lowercase();
            // Certificate hashes are sometimes written with colons.
            let h = if kind == K::AppCertHash {
                h.replace(':', "")
            } else {
                h
            };
            if !is_hex_hash(&h) {
                return Err(format!(
                    "'{v}' is not an MD5, SHA-1, SHA-256 or SHA-512 hash in hex"
                ));
            }
            h
        }
        K::Email | K::AppId | K::AndroidProperty | K::ConfigurationProfileId => {
            v.to_ascii_lowercase()
        }
        K::FileName | K::FilePath | K::ProcessName => v.to_string(),
    })
}

/// Guesses the kind of a bare list entry: address, hash, URL, e-mail or domain.
pub(crate) fn guess_kind(v: &str) -> Option<ObservableKind> {
    use ObservableKind as K;
    if let Some((addr, _)) = parse_cidr(v) {
        return Some(if addr.is_ipv4() { K::Ipv4 } else { K::Ipv6 });
    }
    // Hex digits of either case: no lower-cased copy needed to tell.
    if is_hex_hash(v) {
        return Some(K::FileHash);
    }
    if v.contains("://") {
        return Some(K::Url);
    }
    if v.contains('@') {
        return Some(K::Email);
    }
    let domainish = v.contains('.')
        && !v.starts_with('.')
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') || b >= 0x80);
    domainish.then_some(K::Domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_normalisation() {
        assert_eq!(
            normalise_url("HTTPS://Evil.COM:443#frag").as_deref(),
            Some("https://evil.com/")
        );
        assert_eq!(
            normalise_url("http://user@evil.com:8080/a?b=1").as_deref(),
            Some("http://evil.com:8080/a?b=1")
        );
        assert_eq!(
            normalise_url("evil.com/x").as_deref(),
            Some("http://evil.com/x")
        );
        assert_eq!(normalise_url("http:///x"), None);
        assert_eq!(
            url_host("https://[2001:db8::1]:8443/x"),
            Some("2001:db8::1")
        );
        assert_eq!(
            url_host("https://a.b.example.org:8443/x"),
            Some("a.b.example.org")
        );
    }

    #[test]
    fn hash_key_spellings_map_to_file_hash() {
        for p in [
            "hashes.'SHA-256'",
            "hashes.sha256",
            "hashes.SHA256",
            "hashes.MD5",
            "hashes.'SHA-1'",
        ] {
            assert_eq!(
                kind_for_path("file", p),
                Some(ObservableKind::FileHash),
                "{p}"
            );
        }
        assert_eq!(
            kind_for_path("app", "cert.sha256"),
            Some(ObservableKind::AppCertHash)
        );
        assert_eq!(kind_for_path("x-custom", "value"), None);
    }
}
