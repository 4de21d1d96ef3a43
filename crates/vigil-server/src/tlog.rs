//! The hub's transparency log: a `vigil-tlog` log in the data folder,
//! served read-only under `/log/`, whose entries are the oversight
//! workflow's steps and the hub's own sensitive actions.
//!
//! Every append goes through one lock, and the entry is recorded in the
//! database (`transparency_entries`, with the authorisation rows it
//! changed) before the lock is released and the caller answered. The log
//! append comes first: a crash between the two leaves an entry on the log
//! that the database lacks, and [`TransparencyLog::open`] records it on the
//! next start as *not applied* (the attempt is public, the change did not
//! take effect), so log and database agree again.
//!
//! To record a hub action (a TLP:RED release, an export-screening decision,
//! a licence determination, an admin change), call
//! [`crate::AppState::log_action`] with the actor's and the subject's
//! plain identifiers: only their salted hashes reach the log.
//!
//! Processes that share the database but do not hold the log (other
//! replicas, command-line admin changes) queue their entries with a
//! [`LogQueue`] in the `transparency_queue` table; the holder drains it
//! ([`TransparencyLog::drain_queue`]): it claims the queued rows with the
//! indices they will get, appends them, and records them, so each queued
//! entry reaches the log exactly once, in queue order, even across a crash
//! (claims beyond the log's size are released on the next start, claims
//! within it are recorded as applied).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rand::RngCore as _;
use vigil_ledger::{verify_checkpoint, Checkpoint, Note, Signer, Verifier};
use vigil_oversight::{
    hub_action_entry, Authorisation, Entry, Event, HubActionKind, LogSink, Oversight, Person,
    Policy, Pseudonymiser,
};
use vigil_store::oversight::{AuthorisationRow, CheckpointRow, LogEntryRow, OversightStore};
use vigil_store::Store;
use vigil_tlog::client::WitnessEndpoint;
use vigil_tlog::witness::WitnessService;
use vigil_tlog::{Log, Options};

use crate::error::ApiError;

/// Name of the hub setting holding the pseudonymisation salt.
const SALT_SETTING: &str = "oversight_salt";

/// Name of the hub setting holding the URL at which the replica holding
/// the log serves the oversight API to the other replicas.
pub const HOLDER_SETTING: &str = "transparency_log_holder";

/// A clock giving Unix seconds (replaceable in tests).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    })
}

/// How the hub runs its log.
pub struct LogConfig {
    /// The log directory (created if needed).
    pub dir: PathBuf,
    /// The log's signing key; its name is the log origin.
    pub signer: Signer,
    /// Witnesses asked to cosign each checkpoint.
    pub witnesses: Vec<WitnessEndpoint>,
    /// Cosignatures required before a checkpoint is published.
    pub quorum: usize,
    /// Limits of the oversight workflow.
    pub policy: Policy,
    /// A witness the hub itself runs for other logs (`/log/witness/`).
    pub witness: Option<Arc<WitnessService>>,
    /// Where the time comes from.
    pub clock: Clock,
}

impl std::fmt::Debug for LogConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogConfig")
            .field("dir", &self.dir)
            .field("origin", &self.signer.name())
            .field("witnesses", &self.witnesses.len())
            .field("quorum", &self.quorum)
            .finish_non_exhaustive()
    }
}

/// Errors of the hub's log.
#[derive(Debug, thiserror::Error)]
pub enum HubLogError {
    /// The log files.
    #[error("transparency log: {0}")]
    Log(#[from] vigil_tlog::TlogError),
    /// The database.
    #[error("transparency log bookkeeping: {0}")]
    Store(#[from] vigil_store::StoreError),
    /// Log and database disagree in a way that cannot be repaired.
    #[error("transparency log and database disagree: {0}")]
    Inconsistent(String),
    /// A checkpoint could not be signed or checked.
    #[error("checkpoint: {0}")]
    Ledger(#[from] vigil_ledger::LedgerError),
    /// A background task failed.
    #[error("worker: {0}")]
    Worker(String),
    /// Another process (usually another replica) holds the log folder.
    #[error(
        "{0}: another replica already holds this transparency log; start this replica with \
         --no-log (its logged actions then go to the holder through the database), or give it \
         a data directory of its own"
    )]
    Held(String),
}

impl From<HubLogError> for ApiError {
    fn from(e: HubLogError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// Where the workflow's entries go: the log, remembering what was appended
/// during the current operation.
#[derive(Debug)]
pub struct HubSink {
    log: Arc<Log>,
    appended: Vec<(u64, Vec<u8>)>,
}

impl HubSink {
    /// Appends entries together (one durable batch) and remembers them.
    pub fn append_batch(&mut self, entries: Vec<Vec<u8>>) -> Result<std::ops::Range<u64>, String> {
        let range = self
            .log
            .append_batch(entries.clone())
            .map_err(|e| e.to_string())?;
        self.appended.extend(range.clone().zip(entries));
        Ok(range)
    }
}

impl LogSink for HubSink {
    fn append(&mut self, entry: Vec<u8>) -> Result<u64, String> {
        let index = self.log.append(entry.clone()).map_err(|e| e.to_string())?;
        self.appended.push((index, entry));
        Ok(index)
    }
}

/// The hub's transparency log and the oversight workflow writing to it.
pub struct TransparencyLog {
    log: Arc<Log>,
    signer: Signer,
    pseud: Pseudonymiser,
    witnesses: Vec<WitnessEndpoint>,
    quorum: usize,
    witness: Option<Arc<WitnessService>>,
    store: Arc<dyn OversightStore>,
    workflow: Arc<tokio::sync::Mutex<Oversight<HubSink>>>,
    publishing: tokio::sync::Mutex<()>,
    /// Set when an entry reached the log but not the database: further
    /// changes are refused until a restart reconciles the two.
    broken: AtomicBool,
    clock: Clock,
}

impl std::fmt::Debug for TransparencyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransparencyLog")
            .field("origin", &self.signer.name())
            .finish_non_exhaustive()
    }
}

/// Summary of an entry for the database: its event name, authorisation
/// and time.
fn describe(bytes: &[u8]) -> (String, Option<String>, i64) {
    let Some(e) = Entry::parse(bytes) else {
        return ("other".into(), None, 0);
    };
    let auth = match &e.event {
        Event::Requested { auth, .. }
        | Event::Approved { auth, .. }
        | Event::Refused { auth, .. }
        | Event::Revoked { auth, .. }
        | Event::Expired { auth }
        | Event::Access { auth, .. }
        | Event::Reviewed { auth, .. }
        | Event::Destroyed { auth, .. }
        | Event::Notified { auth }
        | Event::NotificationDeferred { auth, .. }
        | Event::Complaint { auth, .. }
        | Event::Remedy { auth, .. } => Some(auth.clone()),
        Event::HubAction { .. } => None,
    }
    .filter(|a| a.starts_with("A-"));
    let kind = serde_json::to_value(&e)
        .ok()
        .and_then(|v| v.get("event")?.as_str().map(str::to_string))
        .unwrap_or_else(|| "other".into());
    (kind, auth, i64::try_from(e.at).unwrap_or(i64::MAX))
}

fn row_of(index: u64, bytes: Vec<u8>, applied: bool) -> LogEntryRow {
    let (kind, auth_id, at) = describe(&bytes);
    LogEntryRow {
        index: index as i64,
        kind,
        auth_id,
        at,
        body: bytes,
        applied,
        checkpoint_size: None,
    }
}

fn status_name(a: &Authorisation) -> String {
    serde_json::to_value(a.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HubLogError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| HubLogError::Worker(e.to_string()))
}

/// The hub's pseudonymiser, from the salt kept in the hub's settings
/// (created on first use, shared by every process on the database).
async fn pseudonymiser(hub_store: &dyn Store) -> Result<Pseudonymiser, HubLogError> {
    let salt_hex = {
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        hub_store.init_setting(SALT_SETTING, &hex(&fresh)).await?
    };
    let salt = unhex32(&salt_hex)
        .ok_or_else(|| HubLogError::Inconsistent("the stored salt is not 32 bytes".into()))?;
    Ok(Pseudonymiser::new(salt))
}

/// Queues hub actions for the process holding the log, from any process on
/// the same database: a replica started without the log, or an admin
/// command run beside the server. A queued entry is durable in the
/// database when [`LogQueue::queue_actions`] returns; the holder gives it
/// its log index later.
pub struct LogQueue {
    pseud: Pseudonymiser,
    store: Arc<dyn OversightStore>,
    clock: Clock,
    /// How this replica reaches the log holder's oversight API.
    holder: crate::client::Connector,
}

impl std::fmt::Debug for LogQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogQueue").finish_non_exhaustive()
    }
}

impl LogQueue {
    /// A queue over the database of `hub_store` (whose salt it uses) and
    /// its oversight tables `store`.
    pub async fn open(
        hub_store: &dyn Store,
        store: Arc<dyn OversightStore>,
        clock: Clock,
    ) -> Result<Self, HubLogError> {
        Ok(Self {
            pseud: pseudonymiser(hub_store).await?,
            store,
            clock,
            holder: crate::client::Connector::plain(),
        })
    }

    /// The same queue reaching an `https://` log holder with `connector`
    /// (plain HTTP holders are reached without TLS whatever it is).
    pub fn with_holder_connector(mut self, connector: crate::client::Connector) -> Self {
        self.holder = connector;
        self
    }

    /// The connector for the log holder's URL `url` (its scheme decides).
    pub(crate) fn holder_connector(&self, url: &str) -> crate::client::Connector {
        if url.starts_with("https://") && self.holder.is_tls() {
            self.holder.clone()
        } else if url.starts_with("https://") {
            crate::client::Connector::tls(None).unwrap_or_else(|_| self.holder.clone())
        } else {
            crate::client::Connector::plain()
        }
    }

    /// Queues one entry per subject (salted hashes of `actor` and of each
    /// subject only), in one transaction; returns their queue ids.
    pub async fn queue_actions(
        &self,
        kind: HubActionKind,
        actor: &str,
        subjects: &[String],
    ) -> Result<Vec<i64>, HubLogError> {
        let now = (self.clock)();
        let bodies: Vec<Vec<u8>> = subjects
            .iter()
            .map(|s| hub_action_entry(&self.pseud, kind, actor, s, now))
            .collect();
        Ok(self.store.enqueue(&bodies, now as i64).await?)
    }

    /// The log index a queued entry was given, once the holder appended it.
    pub async fn log_index(&self, id: i64) -> Result<Option<u64>, HubLogError> {
        Ok(self.store.queue_index(id).await?.map(|i| i as u64))
    }
}

/// Most queued entries appended in one batch.
const DRAIN_BATCH: i64 = 1024;

impl TransparencyLog {
    /// Opens the log, reconciles it with the database and restores the
    /// workflow's state.
    ///
    /// Entries on the log that the database lacks (a crash between the two
    /// writes) are recorded as not applied; a database that records entries
    /// the log does not have is refused.
    pub async fn open(
        hub_store: &dyn Store,
        store: Arc<dyn OversightStore>,
        cfg: LogConfig,
    ) -> Result<Arc<Self>, HubLogError> {
        let dir = cfg.dir.clone();
        let log = match blocking(move || Log::open(&dir, Options::default())).await? {
            Ok(log) => Arc::new(log),
            Err(e @ vigil_tlog::TlogError::Locked { .. }) => {
                return Err(HubLogError::Held(e.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        let size = log.size();
        let next = store.last_log_index().await?.map_or(0, |i| i as u64 + 1);
        if next > size {
            return Err(HubLogError::Inconsistent(format!(
                "the database records entries up to index {} but the log in {} holds {size}",
                next - 1,
                cfg.dir.display()
            )));
        }
        // Queued entries claimed for indices the log never reached go back
        // to the queue.
        let released = store.release_claims(size as i64).await?;
        if released > 0 {
            tracing::warn!(
                entries = released,
                "queued log entries claimed but not appended before a crash are queued again"
            );
        }
        if next < size {
            let l = log.clone();
            let mut missing = blocking(move || {
                let mut r = l.reader();
                (next..size)
                    .map(|i| r.entry(i).map(|b| row_of(i, b, false)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await??;
            // Queued entries that reached the log record actions their
            // processes carried out: applied.
            for (index, body) in store.claimed(next as i64, size as i64).await? {
                let Some(row) = missing.iter_mut().find(|r| r.index == index) else {
                    continue;
                };
                if row.body != body {
                    return Err(HubLogError::Inconsistent(format!(
                        "log entry {index} is not the queued entry claimed for it"
                    )));
                }
                row.applied = true;
            }
            tracing::warn!(
                entries = missing.len(),
                "log entries without their database record (interrupted writes) recorded"
            );
            store.record(&missing, &[]).await?;
        }
        let pseud = pseudonymiser(hub_store).await?;
        let mut auths = Vec::new();
        for row in store.authorisations().await? {
            let a: Authorisation = serde_json::from_str(&row.body)
                .map_err(|e| HubLogError::Inconsistent(format!("authorisation {}: {e}", row.id)))?;
            auths.push(a);
        }
        // Numbers named by requests that reached the log but not the
        // database are used: a new request never reuses them.
        let mut next_id = 1u64;
        let mut last_time = 0u64;
        if size > 0 {
            let logged = store.log_entries(0, size as i64).await?;
            for e in &logged {
                if let Some(n) = e
                    .auth_id
                    .as_deref()
                    .and_then(|a| a.strip_prefix("A-"))
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    next_id = next_id.max(n + 1);
                }
                last_time = last_time.max(u64::try_from(e.at).unwrap_or(0));
            }
        }
        let workflow = Oversight::restore(
            cfg.policy,
            HubSink {
                log: log.clone(),
                appended: Vec::new(),
            },
            pseud.clone(),
            auths,
            last_time,
            next_id,
        );
        let me = Arc::new(Self {
            log,
            signer: cfg.signer,
            pseud,
            witnesses: cfg.witnesses,
            quorum: cfg.quorum,
            witness: cfg.witness,
            store,
            workflow: Arc::new(tokio::sync::Mutex::new(workflow)),
            publishing: tokio::sync::Mutex::new(()),
            broken: AtomicBool::new(false),
            clock: cfg.clock,
        });
        me.sync_published().await?;
        Ok(me)
    }

    /// Records in the database a checkpoint published on disk but not yet
    /// recorded (a crash between the two).
    async fn sync_published(&self) -> Result<(), HubLogError> {
        let l = self.log.clone();
        let Some(bytes) = blocking(move || l.checkpoint()).await?? else {
            return Ok(());
        };
        let note = Note::parse(&bytes)?;
        let cp = Checkpoint::parse(note.text())?;
        let known = self.store.latest_checkpoint().await?.map(|c| c.size);
        if known.is_none_or(|k| k < cp.size as i64) {
            self.store
                .record_checkpoint(&CheckpointRow {
                    size: cp.size as i64,
                    note: note.to_text(),
                    published: (self.clock)() as i64,
                })
                .await?;
        }
        Ok(())
    }

    /// The log's verifier key (`name+keyid+base64`), for auditors.
    pub fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }

    /// The log origin.
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The underlying log.
    pub fn log(&self) -> &Arc<Log> {
        &self.log
    }

    /// The oversight rows and log bookkeeping.
    pub fn store(&self) -> &Arc<dyn OversightStore> {
        &self.store
    }

    /// The current time of the hub's clock.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    fn check_usable(&self) -> Result<(), ApiError> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(ApiError::Internal(
                "the transparency log is out of step with the database; restart the hub".into(),
            ));
        }
        Ok(())
    }

    /// Records what the last operation appended, with the authorisation
    /// rows it touched, in one database transaction.
    async fn persist(
        &self,
        appended: Vec<(u64, Vec<u8>)>,
        rows: Vec<AuthorisationRow>,
    ) -> Result<(), ApiError> {
        if appended.is_empty() && rows.is_empty() {
            return Ok(());
        }
        let entries: Vec<LogEntryRow> = appended
            .into_iter()
            .map(|(i, b)| row_of(i, b, true))
            .collect();
        if let Err(e) = self.store.record(&entries, &rows).await {
            self.broken.store(true, Ordering::SeqCst);
            return Err(ApiError::Internal(format!(
                "recording log entries in the database: {e}"
            )));
        }
        Ok(())
    }

    /// Runs one workflow operation at the hub's current time with the given
    /// directory of people; the entries it appends and the authorisations
    /// they concern are recorded in the database before this returns.
    pub async fn run<T: Send + 'static>(
        &self,
        people: Vec<Person>,
        op: impl FnOnce(&mut Oversight<HubSink>, u64) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        self.check_usable()?;
        let guard = self.workflow.clone().lock_owned().await;
        let now = self.now();
        let (guard, out, appended, rows) = blocking(move || {
            let mut g = guard;
            g.set_people(people);
            g.log_mut().appended.clear();
            let out = op(&mut g, now);
            let appended = std::mem::take(&mut g.log_mut().appended);
            let mut ids: Vec<String> = appended.iter().filter_map(|(_, b)| describe(b).1).collect();
            ids.sort();
            ids.dedup();
            let rows = ids
                .iter()
                .filter_map(|id| g.get(id))
                .map(|a| AuthorisationRow {
                    id: a.id.clone(),
                    status: status_name(a),
                    body: serde_json::to_string(a).unwrap_or_default(),
                    updated: now as i64,
                })
                .collect::<Vec<_>>();
            (g, out, appended, rows)
        })
        .await
        .map_err(ApiError::from)?;
        self.persist(appended, rows).await?;
        drop(guard);
        Ok(out)
    }

    /// Reads the workflow's state (no change, nothing logged).
    pub async fn read<T>(&self, f: impl FnOnce(&Oversight<HubSink>) -> T) -> T {
        let g = self.workflow.lock().await;
        f(&g)
    }

    /// Appends a hub action (only salted hashes of `actor` and `subject`)
    /// and records it; returns the entry's log index.
    pub async fn log_action(
        &self,
        kind: HubActionKind,
        actor: &str,
        subject: &str,
    ) -> Result<u64, ApiError> {
        let entry = hub_action_entry(&self.pseud, kind, actor, subject, self.now());
        let idx = self
            .run(Vec::new(), move |w, _| w.log_mut().append(entry))
            .await?
            .map_err(|e| ApiError::Internal(format!("transparency log: {e}")))?;
        Ok(idx)
    }

    /// Appends one hub action per subject (in one batch) and records them;
    /// returns their log indices.
    pub async fn log_actions(
        &self,
        kind: HubActionKind,
        actor: &str,
        subjects: &[String],
    ) -> Result<std::ops::Range<u64>, ApiError> {
        let now = self.now();
        let entries: Vec<Vec<u8>> = subjects
            .iter()
            .map(|s| hub_action_entry(&self.pseud, kind, actor, s, now))
            .collect();
        self.run(Vec::new(), move |w, _| w.log_mut().append_batch(entries))
            .await?
            .map_err(|e| ApiError::Internal(format!("transparency log: {e}")))
    }

    /// Appends the entries other processes queued, in queue order, and
    /// records them (each with its log index in the queue row); returns how
    /// many. Runs under the workflow's lock, so the log's size is known
    /// while the rows are claimed.
    pub async fn drain_queue(&self) -> Result<usize, ApiError> {
        self.check_usable()?;
        let guard = self.workflow.clone().lock_owned().await;
        let mut total = 0;
        loop {
            let rows = self.store.queued(DRAIN_BATCH).await?;
            if rows.is_empty() {
                break;
            }
            let first = self.log.size();
            let claims: Vec<(i64, i64)> = rows
                .iter()
                .enumerate()
                .map(|(k, (id, _))| (*id, (first + k as u64) as i64))
                .collect();
            self.store.claim(&claims).await?;
            let bodies: Vec<Vec<u8>> = rows.into_iter().map(|(_, b)| b).collect();
            let log = self.log.clone();
            let b = bodies.clone();
            let appended = blocking(move || log.append_batch(b)).await?;
            match appended {
                Ok(range) if range.start == first => {}
                other => {
                    // Nothing (or something unexpected) reached the log: the
                    // claims must not stand.
                    if self.store.release_claims(first as i64).await.is_err() {
                        self.broken.store(true, Ordering::SeqCst);
                    }
                    return Err(ApiError::Internal(format!(
                        "transparency log: appending queued entries: {}",
                        match other {
                            Err(e) => e.to_string(),
                            Ok(r) => format!("appended at {} instead of {first}", r.start),
                        }
                    )));
                }
            }
            total += bodies.len();
            let appended: Vec<(u64, Vec<u8>)> = (first..).zip(bodies).collect();
            self.persist(appended, Vec::new()).await?;
        }
        drop(guard);
        Ok(total)
    }

    /// The salted hash the log uses for `value` in namespace `kind`.
    pub fn pseudonym(&self, kind: &str, value: &str) -> String {
        self.pseud.hash(kind, value)
    }

    /// Signs the current tree head, collects the configured witnesses'
    /// cosignatures, publishes it at `/log/checkpoint` and records it;
    /// returns the published size. Unchanged heads are not republished.
    pub async fn publish(&self) -> Result<Option<u64>, HubLogError> {
        let _one_at_a_time = self.publishing.lock().await;
        let last = self.store.latest_checkpoint().await?.map(|c| c.size);
        let (log, signer) = (self.log.clone(), self.signer.clone());
        let (witnesses, quorum) = (self.witnesses.clone(), self.quorum);
        let published = blocking(move || -> Result<Option<(u64, Note)>, HubLogError> {
            let note = log.sign_checkpoint(&signer)?;
            let size = Checkpoint::parse(note.text())?.size;
            if last == Some(size as i64) {
                return Ok(None);
            }
            let note = if witnesses.is_empty() {
                note
            } else {
                let l = log.clone();
                vigil_tlog::client::collect_cosignatures(
                    &vigil_tlog::client::agent(),
                    &note,
                    &witnesses,
                    quorum,
                    &mut |old, new| Ok(l.reader().prove_consistency(old, new)?.path),
                )?
            };
            log.publish_checkpoint(&note)?;
            Ok(Some((size, note)))
        })
        .await??;
        let Some((size, note)) = published else {
            return Ok(None);
        };
        self.store
            .record_checkpoint(&CheckpointRow {
                size: size as i64,
                note: note.to_text(),
                published: self.now() as i64,
            })
            .await?;
        Ok(Some(size))
    }

    /// The latest published checkpoint, verified with the log's own key
    /// (witness cosignatures are kept but not required here), and the
    /// entries it covers.
    pub async fn published_entries(
        &self,
    ) -> Result<Option<(vigil_ledger::VerifiedCheckpoint, Vec<Vec<u8>>)>, HubLogError> {
        let log = self.log.clone();
        let key = self.verifier();
        blocking(move || {
            let Some(bytes) = log.checkpoint()? else {
                return Ok(None);
            };
            let cp = verify_checkpoint(&bytes, &key, &[], 0)?;
            let mut r = log.reader();
            let entries = (0..cp.checkpoint().size)
                .map(|i| r.entry(i))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some((cp, entries)))
        })
        .await?
    }

    /// The read-only `tlog-tiles` API, plus `POST /witness/add-checkpoint`
    /// when the hub runs a witness, to mount under `/log`.
    pub fn router(&self) -> axum::Router {
        let mut r = vigil_tlog::router(self.log.clone());
        if let Some(w) = &self.witness {
            r = r.nest("/witness", vigil_tlog::witness::witness_router(w.clone()));
        }
        r
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Records on the log that a named user is given the TLP:RED objects among
/// `objects` of collection `collection` (a TAXII read or an export), before
/// they are sent: one TLP:RED release per object, with salted hashes of the
/// user and of `collection/object id` only. Anonymous callers never see
/// TLP:RED, so nothing is logged for them.
pub async fn log_red_reads(
    s: &crate::AppState,
    caller: &crate::auth::Caller,
    collection: &str,
    objects: &[vigil_store::StoredObject],
) -> Result<(), ApiError> {
    let Some(user) = caller.user() else {
        return Ok(());
    };
    let red: Vec<String> = objects
        .iter()
        .filter(|o| o.tlp == vigil_store::Tlp::Red)
        .map(|o| format!("{collection}/{}", o.id))
        .collect();
    s.log_actions(HubActionKind::TlpRedRelease, &user.name, &red)
        .await
        .map(|_| ())
}
