//! HTTP clients: reading a remote log's tiles and checkpoint, and
//! collecting cosignatures from witnesses.

use std::io::Read;
use std::time::Duration;

use vigil_ledger::tiles::{decode_hash_tile, TileId, TileReader};
use vigil_ledger::witness::AddCheckpoint;
use vigil_ledger::{Checkpoint, Hash, LedgerError, Note, NoteSignature, Verifier};

use crate::TlogError;

/// Largest checkpoint or witness response read from the network.
const MAX_SMALL_BODY: u64 = 1 << 20;

/// An HTTP agent with conservative timeouts.
pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
}

fn read_limited(resp: ureq::Response, limit: u64, url: &str) -> Result<Vec<u8>, TlogError> {
    let mut buf = Vec::new();
    resp.into_reader()
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| TlogError::Http {
            url: url.to_string(),
            why: e.to_string(),
        })?;
    if buf.len() as u64 > limit {
        return Err(TlogError::Http {
            url: url.to_string(),
            why: format!("response larger than {limit} bytes"),
        });
    }
    Ok(buf)
}

fn get(agent: &ureq::Agent, url: &str, limit: u64) -> Result<Vec<u8>, TlogError> {
    match agent.get(url).call() {
        Ok(r) => read_limited(r, limit, url),
        Err(ureq::Error::Status(code, _)) => Err(TlogError::Http {
            url: url.to_string(),
            why: format!("HTTP status {code}"),
        }),
        Err(e) => Err(TlogError::Http {
            url: url.to_string(),
            why: e.to_string(),
        }),
    }
}

/// Fetches `<base>/checkpoint`.
pub fn fetch_checkpoint(agent: &ureq::Agent, base: &str) -> Result<Vec<u8>, TlogError> {
    get(
        agent,
        &format!("{}/checkpoint", base.trim_end_matches('/')),
        MAX_SMALL_BODY,
    )
}

/// Reads hash tiles of a remote log over HTTP (`<base>/tile/...`).
#[derive(Debug, Clone)]
pub struct HttpTileReader {
    agent: ureq::Agent,
    base: String,
}

impl HttpTileReader {
    /// A reader for the log served at `base` (the prefix before `/tile`).
    pub fn new(agent: ureq::Agent, base: &str) -> Self {
        Self {
            agent,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// Fetches an entry bundle or tile's raw bytes.
    pub fn fetch(&self, id: &TileId) -> Result<Vec<u8>, TlogError> {
        let limit = match id.kind {
            vigil_ledger::tiles::TileKind::Hash(_) => u64::from(id.width) * 32,
            vigil_ledger::tiles::TileKind::Entries => {
                u64::from(id.width) * (vigil_ledger::tiles::MAX_ENTRY_LEN as u64 + 2)
            }
        };
        get(&self.agent, &format!("{}/{}", self.base, id.path()), limit)
    }
}

impl TileReader for HttpTileReader {
    fn read_tile(&mut self, id: &TileId) -> Result<Vec<Hash>, LedgerError> {
        let bytes = self
            .fetch(id)
            .map_err(|e| LedgerError::Storage(e.to_string()))?;
        decode_hash_tile(&bytes, id)
    }
}

/// A witness to ask for cosignatures: its submission URL prefix and key.
#[derive(Debug, Clone)]
pub struct WitnessEndpoint {
    /// Submission prefix; requests go to `<url>/add-checkpoint`.
    pub url: String,
    /// The witness's cosignature verifier key.
    pub key: Verifier,
}

/// Asks every witness to cosign `note` and returns the note with all valid
/// cosignatures added, or an error if fewer than `quorum` witnesses cosigned.
///
/// `proof` returns the consistency proof between two sizes of the log. A
/// witness that answers 409 with its recorded size is asked again once with
/// a proof from that size.
pub fn collect_cosignatures(
    agent: &ureq::Agent,
    note: &Note,
    witnesses: &[WitnessEndpoint],
    quorum: usize,
    proof: &mut dyn FnMut(u64, u64) -> Result<Vec<Hash>, TlogError>,
) -> Result<Note, TlogError> {
    let cp = Checkpoint::parse(note.text())?;
    let mut out = note.clone();
    let mut have = 0;
    let mut failures = Vec::new();
    for w in witnesses {
        match cosign_one(agent, note, &cp, w, proof) {
            Ok(sig) => {
                out.add_signature(sig);
                have += 1;
            }
            Err(e) => failures.push(format!("{}: {e}", w.key.name())),
        }
    }
    if have < quorum {
        return Err(TlogError::Quorum {
            have,
            need: quorum,
            failures: failures.join("; "),
        });
    }
    Ok(out)
}

fn cosign_one(
    agent: &ureq::Agent,
    note: &Note,
    cp: &Checkpoint,
    w: &WitnessEndpoint,
    proof: &mut dyn FnMut(u64, u64) -> Result<Vec<Hash>, TlogError>,
) -> Result<NoteSignature, TlogError> {
    let url = format!("{}/add-checkpoint", w.url.trim_end_matches('/'));
    let http = |why: String| TlogError::Http {
        url: url.clone(),
        why,
    };
    let mut old = 0u64;
    for _attempt in 0..2 {
        let path = if old == 0 {
            Vec::new()
        } else {
            proof(old, cp.size)?
        };
        let body = AddCheckpoint {
            old_size: old,
            proof: path,
            checkpoint: note.to_text().into_bytes(),
        }
        .to_body();
        match agent
            .post(&url)
            .set("Content-Type", "text/plain")
            .send_bytes(&body)
        {
            Ok(resp) => {
                let bytes = read_limited(resp, MAX_SMALL_BODY, &url)?;
                let text =
                    String::from_utf8(bytes).map_err(|_| http("reply is not UTF-8".into()))?;
                for line in text.lines() {
                    let Ok(sig) = NoteSignature::parse_line(line, 1) else {
                        continue;
                    };
                    if sig.name != w.key.name() || sig.key_id != w.key.key_id() {
                        continue;
                    }
                    let mut probe = Note::new(note.text())?;
                    probe.add_signature(sig.clone());
                    if probe.verify(std::slice::from_ref(&w.key)).is_ok() {
                        return Ok(sig);
                    }
                }
                return Err(http(
                    "no valid cosignature from this witness in the reply".into(),
                ));
            }
            Err(ureq::Error::Status(409, resp)) => {
                let is_size = resp.content_type() == "text/x.tlog.size";
                let bytes = read_limited(resp, 64, &url)?;
                let size = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|s| s.trim_end().parse::<u64>().ok());
                match (is_size, size) {
                    (true, Some(s)) if s != old && s <= cp.size => old = s,
                    _ => {
                        return Err(http(
                            "witness reports a conflicting view of the log (409)".into(),
                        ))
                    }
                }
            }
            Err(ureq::Error::Status(code, resp)) => {
                let msg = read_limited(resp, 4096, &url)
                    .map(|b| String::from_utf8_lossy(&b).trim().to_string())
                    .unwrap_or_default();
                return Err(http(format!("HTTP {code}: {msg}")));
            }
            Err(e) => return Err(http(e.to_string())),
        }
    }
    Err(http("witness kept reporting a different size".into()))
}
