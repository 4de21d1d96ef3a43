//! Writers for the export formats.

use std::io::Write;

use crate::set::{EntryKind, IndicatorSet};
use crate::Error;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A STIX 2.1 bundle of the exported indicators, their malware and the
    /// `indicates` relationships: the file MVT's `--iocs` reads.
    Mvt,
    /// Suricata rules for DNS queries and TLS SNI (the domain and its
    /// subdomains, via `dotprefix`), HTTP hosts, and IP addresses.
    SuricataRules,
    /// A Suricata dataset file (base64 strings) of the domains, for a
    /// `dataset:isset` rule on `dns.query` or `tls.sni` (exact names).
    SuricataDataset,
    /// A Zeek Intelligence Framework file.
    Zeek,
    /// A DNS Response Policy Zone: each domain and its wildcard answer NXDOMAIN.
    Rpz,
    /// A hosts file mapping every domain to 0.0.0.0.
    Hosts,
    /// One domain per line.
    Domains,
    /// CSV: kind, value, indicator id, malware.
    Csv,
}

impl Format {
    /// The format names accepted by [`Format::from_name`].
    pub const NAMES: &'static [&'static str] = &[
        "mvt",
        "suricata",
        "suricata-dataset",
        "zeek",
        "rpz",
        "hosts",
        "domains",
        "csv",
    ];

    /// Parses a format name (`mvt`, `suricata`, `zeek`, `rpz` …).
    pub fn from_name(name: &str) -> Result<Format, Error> {
        Ok(match name {
            "mvt" | "stix" => Format::Mvt,
            "suricata" | "suricata-rules" => Format::SuricataRules,
            "suricata-dataset" => Format::SuricataDataset,
            "zeek" | "zeek-intel" => Format::Zeek,
            "rpz" => Format::Rpz,
            "hosts" => Format::Hosts,
            "domains" | "plain" => Format::Domains,
            "csv" => Format::Csv,
            other => {
                return Err(Error::UnknownFormat {
                    name: other.to_string(),
                })
            }
        })
    }

    /// The name of the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Mvt => "mvt",
            Format::SuricataRules => "suricata",
            Format::SuricataDataset => "suricata-dataset",
            Format::Zeek => "zeek",
            Format::Rpz => "rpz",
            Format::Hosts => "hosts",
            Format::Domains => "domains",
            Format::Csv => "csv",
        }
    }

    /// The media type to serve the format with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Mvt => "application/stix+json;version=2.1",
            Format::Csv => "text/csv; charset=utf-8",
            _ => "text/plain; charset=utf-8",
        }
    }
}

/// Options that some formats use.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// RPZ zone origin, e.g. `rpz.vigil.`.
    pub rpz_origin: String,
    /// SOA serial of the RPZ zone (e.g. `YYYYMMDDnn`).
    pub rpz_serial: u64,
    /// First Suricata signature id; each rule takes the next one.
    pub suricata_first_sid: u64,
    /// Name of the Suricata dataset (and of its file, with `.lst`).
    pub suricata_dataset: String,
    /// `meta.source` of Zeek intel entries.
    pub zeek_source: String,
    /// Bundle id of the MVT/STIX export (`bundle--<uuid>`).
    pub bundle_id: String,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            rpz_origin: "rpz.vigil.".into(),
            rpz_serial: 1,
            suricata_first_sid: 9_700_000,
            suricata_dataset: "vigil-spyware-domains".into(),
            zeek_source: "vigil".into(),
            bundle_id: "bundle--00000000-0000-4000-8000-000000000000".into(),
        }
    }
}

/// Writes `set` in `format` to `out`.
pub fn export(
    set: &IndicatorSet,
    format: Format,
    options: &ExportOptions,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let r = match format {
        Format::Mvt => mvt(set, options, out),
        Format::SuricataRules => suricata_rules(set, options, out),
        Format::SuricataDataset => suricata_dataset(set, out),
        Format::Zeek => zeek(set, options, out),
        Format::Rpz => rpz(set, options, out),
        Format::Hosts => hosts(set, out),
        Format::Domains => domains(set, out),
        Format::Csv => csv(set, out),
    };
    r.map_err(|source| Error::Write {
        format: format.name(),
        source,
    })
}

fn mvt(set: &IndicatorSet, o: &ExportOptions, out: &mut dyn Write) -> std::io::Result<()> {
    let bundle = serde_json::json!({
        "type": "bundle",
        "id": o.bundle_id,
        "objects": set.stix,
    });
    serde_json::to_writer_pretty(&mut *out, &bundle)?;
    writeln!(out)
}

fn label(malware: &[String]) -> String {
    if malware.is_empty() {
        "known spyware".to_string()
    } else {
        malware.join(", ")
    }
}

/// Suricata rule strings: printable ASCII without `"`, `;`, `\` (those are
/// escaped) — values with anything else are skipped rather than mis-quoted.
fn suricata_escape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | ';' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

fn suricata_rules(
    set: &IndicatorSet,
    o: &ExportOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out, "# Vigil spyware indicators for Suricata 7+.")?;
    writeln!(
        out,
        "# Domain rules match the name and every subdomain (dotprefix + endswith)."
    )?;
    let mut sid = o.suricata_first_sid;
    let mut domains: Vec<(&str, String)> = Vec::new();
    for e in set.of_kind(EntryKind::Domain) {
        if domains.last().map(|(d, _)| *d) != Some(e.value.as_str()) {
            domains.push((e.value.as_str(), label(&e.malware)));
        }
    }
    for (domain, what) in &domains {
        let (Some(d), Some(w)) = (suricata_escape(domain), suricata_escape(what)) else {
            continue;
        };
        for (proto, buffer) in [
            ("dns", "dns.query"),
            ("tls", "tls.sni"),
            ("http", "http.host"),
        ] {
            writeln!(
                out,
                "alert {proto} any any -> any any (msg:\"VIGIL {w} domain {d} ({buffer})\"; {buffer}; dotprefix; content:\".{d}\"; nocase; endswith; classtype:trojan-activity; sid:{sid}; rev:1;)"
            )?;
            sid += 1;
        }
    }
    let mut last = None;
    for e in set
        .entries
        .iter()
        .filter(|e| matches!(e.kind, EntryKind::Ipv4 | EntryKind::Ipv6 | EntryKind::Cidr))
    {
        if last == Some(e.value.as_str()) {
            continue;
        }
        last = Some(e.value.as_str());
        let Some(w) = suricata_escape(&label(&e.malware)) else {
            continue;
        };
        let addr = if e.kind == EntryKind::Ipv6 && !e.value.contains('/') {
            format!("[{}]", e.value)
        } else {
            e.value.clone()
        };
        writeln!(
            out,
            "alert ip $HOME_NET any -> {addr} any (msg:\"VIGIL {w} address {}\"; classtype:trojan-activity; sid:{sid}; rev:1;)",
            e.value
        )?;
        sid += 1;
    }
    Ok(())
}

fn suricata_dataset(set: &IndicatorSet, out: &mut dyn Write) -> std::io::Result<()> {
    for d in set.values(&[EntryKind::Domain]) {
        writeln!(out, "{}", base64(d.as_bytes()))?;
    }
    Ok(())
}

fn zeek_field(s: &str) -> String {
    // Zeek intel files are tab separated; tabs and newlines cannot appear.
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn zeek(set: &IndicatorSet, o: &ExportOptions, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
    )?;
    let mut last: Option<(EntryKind, &str)> = None;
    for e in &set.entries {
        if last == Some((e.kind, e.value.as_str())) {
            continue;
        }
        last = Some((e.kind, e.value.as_str()));
        let (ty, value) = match e.kind {
            EntryKind::Domain => ("Intel::DOMAIN", e.value.clone()),
            // Zeek's Intel::URL entries are written without the scheme.
            EntryKind::Url => (
                "Intel::URL",
                e.value
                    .split_once("://")
                    .map(|(_, rest)| rest.to_string())
                    .unwrap_or_else(|| e.value.clone()),
            ),
            EntryKind::Ipv4 | EntryKind::Ipv6 => ("Intel::ADDR", e.value.clone()),
            EntryKind::Cidr => ("Intel::SUBNET", e.value.clone()),
            EntryKind::Email => ("Intel::EMAIL", e.value.clone()),
            EntryKind::Md5 | EntryKind::Sha1 | EntryKind::Sha256 | EntryKind::Sha512 => {
                ("Intel::FILE_HASH", e.value.clone())
            }
            EntryKind::FileName => ("Intel::FILE_NAME", e.value.clone()),
            EntryKind::ProcessName | EntryKind::AppId => continue,
        };
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t-",
            zeek_field(&value),
            ty,
            zeek_field(&o.zeek_source),
            zeek_field(&format!("{} ({})", label(&e.malware), e.indicator_id)),
        )?;
    }
    Ok(())
}

/// A domain is written in a zone file only if every label is a valid
/// hostname label; anything else would corrupt the zone.
fn zone_safe(domain: &str) -> bool {
    !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn rpz(set: &IndicatorSet, o: &ExportOptions, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "; Vigil spyware domains as a DNS Response Policy Zone."
    )?;
    writeln!(out, "; Each domain and all its subdomains answer NXDOMAIN.")?;
    writeln!(out, "$ORIGIN {}", o.rpz_origin)?;
    writeln!(out, "$TTL 300")?;
    writeln!(
        out,
        "@ IN SOA localhost. hostmaster.localhost. ( {} 3600 600 86400 300 )",
        o.rpz_serial
    )?;
    writeln!(out, "@ IN NS localhost.")?;
    for d in set.values(&[EntryKind::Domain]) {
        if zone_safe(d) {
            writeln!(out, "{d} CNAME .")?;
            writeln!(out, "*.{d} CNAME .")?;
        }
    }
    Ok(())
}

fn hosts(set: &IndicatorSet, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "# Vigil spyware domains; point them nowhere.")?;
    for d in set.values(&[EntryKind::Domain]) {
        if zone_safe(d) {
            writeln!(out, "0.0.0.0 {d}")?;
        }
    }
    Ok(())
}

fn domains(set: &IndicatorSet, out: &mut dyn Write) -> std::io::Result<()> {
    for d in set.values(&[EntryKind::Domain]) {
        writeln!(out, "{d}")?;
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv(set: &IndicatorSet, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "kind,value,indicator_id,malware")?;
    for e in &set.entries {
        writeln!(
            out,
            "{},{},{},{}",
            e.kind.as_str(),
            csv_field(&e.value),
            csv_field(&e.indicator_id),
            csv_field(&e.malware.join(";"))
        )?;
    }
    Ok(())
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(i.as_bytes()), o);
        }
    }
}
