//! The log directory: durable group-committed appends and tile reads.
//!
//! Layout (all hashes 32 bytes, integers big-endian):
//! - `journal`: one checksummed record per append batch (see
//!   `journal.rs`); the commit point of an append;
//! - `entries`: every entry as in an entry bundle (2-byte length, data);
//! - `bundles`: the byte offset in `entries` where each bundle of 256
//!   entries starts (8 bytes each);
//! - `level-T`: the hashes stored by tile level `T`, i.e. tree level `8 T`,
//!   back to back, so tile `N` of level `T` is bytes `N*8192 ..`;
//! - `state`: the size and `entries` length up to which the data files are
//!   known durable, replaced atomically;
//! - `checkpoint`: the latest published signed checkpoint;
//! - `lock`: empty; an open [`Log`] holds an exclusive OS lock on it, so
//!   only one writer (in any process) works on a directory at a time.
//!   Readers never take it, and the OS releases it when the writer's
//!   process ends, however it ends.
//!
//! An append batch costs one fdatasync: its journal record is written and
//! synced, then the data files are written without syncing. Every
//! `journal_limit` bytes of journal the data files are fsynced, `state` is
//! replaced and the journal is reused from its start. On open, the data
//! files are cut back to `state` and the journal's valid records past it
//! are replayed, so after a crash the log holds exactly the acknowledged
//! batches (and possibly the last unacknowledged one, if its record reached
//! the disk whole).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::Thread;

use vigil_ledger::merkle::ConsistencyProof;
use vigil_ledger::tiles::{
    decode_hash_tile, hashes_at_tile_level, TileCache, TileId, TileKind, TileNodes, TileReader,
    MAX_ENTRY_LEN, TILE_WIDTH,
};
use vigil_ledger::{
    leaf_hash, node_hash, prove_consistency, prove_inclusion, tree_root, Checkpoint, Hash,
    InclusionProof, LedgerError, Note, Signer,
};

use crate::fsutil::{atomic_write, sync_dir};
use crate::journal::{self, Journal};
use crate::TlogError;

/// Tuning of a [`Log`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Most entries written per fsync batch.
    pub max_batch: usize,
    /// How long a flusher waits for more concurrent appends to join its
    /// batch before writing (like a database's commit delay), when the
    /// previous batch had concurrent callers. Zero by default: with several
    /// syncs in flight, batches form while earlier syncs wait for the disk,
    /// and on a loaded machine a short sleep costs far more than it asks for.
    pub commit_delay: std::time::Duration,
    /// Journal bytes after which the data files are fsynced and the journal
    /// starts over (bounds the replay work after a crash).
    pub journal_limit: u64,
    /// Most batches whose journal fdatasync may be under way at once: while
    /// one sync waits for the disk, the next batch is written and synced
    /// (each sync also covers every record written before it started).
    /// More syncs in flight shorten the wait of an append that arrives
    /// during a sync, but make batches smaller (more fsyncs and CPU per
    /// entry); the benchmark compares 1 with the default.
    pub max_in_flight: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_batch: 8192,
            commit_delay: std::time::Duration::ZERO,
            journal_limit: 16 << 20,
            max_in_flight: 2,
        }
    }
}

/// A call waiting for its entries to be taken into a batch.
#[derive(Debug)]
struct Pending {
    entries: Vec<Vec<u8>>,
    /// Index after the call's last entry.
    last: u64,
    /// The calling thread, woken to flush or when its entries are durable.
    thread: Thread,
}

#[derive(Debug, Default)]
struct Shared {
    /// The calls waiting for the next batch, in index order.
    pending: Vec<Pending>,
    /// Calls whose entries are in a batch being written or synced: the
    /// index after their last entry and their thread, woken once durable.
    waiting: Vec<(u64, Thread)>,
    next: u64,
    durable: u64,
    durable_entries_len: u64,
    /// Batches written whose journal sync has not returned yet.
    in_flight: usize,
    /// Appends in the previous batch: concurrency worth waiting for.
    last_batch_calls: usize,
    poisoned: Option<String>,
}

impl Shared {
    /// Wakes exactly the threads that can act now: the calls made durable
    /// (or all of them, once the log is poisoned), and the first pending
    /// call when another batch may start, which then writes it: the next
    /// leader is a caller itself, so no thread is woken for nothing and no
    /// background thread sits between an append and its write.
    fn wake(&mut self, max_in_flight: usize) {
        let durable = self.durable;
        let everyone = self.poisoned.is_some();
        self.waiting.retain(|(last, t)| {
            let done = everyone || *last <= durable;
            if done {
                t.unpark();
            }
            !done
        });
        if everyone {
            for p in &self.pending {
                p.thread.unpark();
            }
        } else if self.in_flight < max_in_flight {
            if let Some(p) = self.pending.first() {
                p.thread.unpark();
            }
        }
    }
}

#[derive(Debug)]
struct Writer {
    entries: File,
    bundles: File,
    levels: Vec<File>,
    size: u64,
    entries_len: u64,
    /// `tails[T]`: hashes of the partial tile at tile level `T`.
    tails: Vec<Vec<Hash>>,
    journal: Journal,
    /// A level file was created since the directory was last synced.
    new_file: bool,
    /// A write failed: the in-memory state may be ahead of the files.
    failed: bool,
    stats: AppendStats,
    /// Data-file bytes of batches whose journal records are written but
    /// which are not yet in the data files (the journal holds them): they
    /// are written out in large pieces, so that a batch costs one journal
    /// write and one fdatasync.
    unwritten: Staged,
}

/// Data-file bytes gathered before they are written out.
const DATA_BUFFER: usize = 1 << 20;

/// Counters of the append path since the log was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendStats {
    /// Batches written (each is one journal record).
    pub batches: u64,
    /// Entries appended.
    pub entries: u64,
    /// fsync/fdatasync calls made (journal records, and the periodic sync
    /// of the data files, `state` and the directory).
    pub fsyncs: u64,
}

/// A batch turned into the bytes to add to each data file.
#[derive(Debug, Default)]
struct Staged {
    entries: Vec<u8>,
    bundles: Vec<u8>,
    levels: Vec<Vec<u8>>,
}

/// A transparency log stored in a directory.
///
/// [`Log::append`] may be called from many threads: concurrent appends are
/// grouped into one write and one set of fsyncs, and each call returns its
/// entry's index only once that batch is durable.
#[derive(Debug)]
pub struct Log {
    dir: PathBuf,
    options: Options,
    shared: Mutex<Shared>,
    writer: Mutex<Writer>,
    journal_syncs: AtomicU64,
    /// Descriptions of the journal opened at start, one per sync in flight.
    sync_handles: Mutex<Vec<File>>,
    /// The `lock` file, exclusively locked while this writer lives (the
    /// last field, so the lock is released only after `drop` has synced).
    lock: Option<File>,
}

fn level_path(dir: &Path, t: usize) -> PathBuf {
    dir.join(format!("level-{t}"))
}

/// Takes the exclusive writer lock of `dir`, failing at once if another
/// writer (in this or another process) holds it.
fn lock_dir(dir: &Path) -> Result<File, TlogError> {
    let path = dir.join("lock");
    let f = open_rw(&path)?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(TlogError::Locked {
            dir: dir.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(TlogError::io(&path, e)),
    }
}

fn open_rw(path: &Path) -> Result<File, TlogError> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| TlogError::io(path, e))
}

fn read_hashes(file: &File, path: &Path, first: u64, count: u64) -> Result<Vec<Hash>, TlogError> {
    let mut buf = vec![0u8; (count * 32) as usize];
    file.read_exact_at(&mut buf, first * 32)
        .map_err(|e| TlogError::io(path, e))?;
    Ok(buf
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect())
}

/// Root of a full tile's 256 hashes: the node 8 levels up.
fn tile_root(hashes: &[Hash]) -> Hash {
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
    level[0]
}

/// The durable `state` of a log directory: `(size, entries length)`.
fn read_state(dir: &Path) -> Result<(u64, u64), TlogError> {
    let path = dir.join("state");
    match fs::read_to_string(&path) {
        Ok(s) => {
            let mut it = s.split_whitespace().map(str::parse::<u64>);
            match (it.next(), it.next(), it.next()) {
                (Some(Ok(a)), Some(Ok(b)), None) => Ok((a, b)),
                _ => Err(TlogError::Corrupt {
                    dir: dir.display().to_string(),
                    why: "unreadable state file".into(),
                }),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((0, 0)),
        Err(e) => Err(TlogError::io(&path, e)),
    }
}

impl Staged {
    fn len(&self) -> usize {
        self.entries.len() + self.bundles.len() + self.levels.iter().map(Vec::len).sum::<usize>()
    }
}

impl Writer {
    /// Computes what `batch` adds to each data file and advances the
    /// in-memory tree state (size, entries length, partial tiles); the
    /// bytes wait in `unwritten`, whose entries part (from byte
    /// `entries_from`) is the batch's entry-bundle encoding.
    fn stage<'a>(&mut self, batch: impl IntoIterator<Item = &'a [u8]>) -> usize {
        let mut st = std::mem::take(&mut self.unwritten);
        let entries_from = st.entries.len();
        for e in batch {
            if self.size % TILE_WIDTH == 0 {
                st.bundles
                    .extend_from_slice(&self.entries_len.to_be_bytes());
            }
            st.entries
                .extend_from_slice(&(e.len() as u16).to_be_bytes());
            st.entries.extend_from_slice(e);
            self.entries_len += 2 + e.len() as u64;
            let mut h = leaf_hash(e);
            let mut t = 0;
            loop {
                if self.tails.len() <= t {
                    self.tails.push(Vec::new());
                }
                if st.levels.len() <= t {
                    st.levels.push(Vec::new());
                }
                st.levels[t].extend_from_slice(&h);
                self.tails[t].push(h);
                if self.tails[t].len() as u64 != TILE_WIDTH {
                    break;
                }
                h = tile_root(&self.tails[t]);
                self.tails[t].clear();
                t += 1;
            }
            self.size += 1;
        }
        self.unwritten = st;
        entries_from
    }

    /// Writes the data files' waiting bytes out if there are at least
    /// `min` of them (not synced).
    fn write_out(&mut self, dir: &Path, min: usize) -> Result<(), TlogError> {
        if self.unwritten.len() < min.max(1) {
            return Ok(());
        }
        let st = std::mem::take(&mut self.unwritten);
        let written = self.write(dir, &st);
        if written.is_err() {
            self.failed = true;
        }
        // Keep the buffers' capacity for the next round.
        self.unwritten = Staged {
            entries: reuse(st.entries),
            bundles: reuse(st.bundles),
            levels: st.levels.into_iter().map(reuse).collect(),
        };
        written
    }

    /// Appends staged bytes to the data files (not synced).
    fn write(&mut self, dir: &Path, st: &Staged) -> Result<(), TlogError> {
        let write = |f: &mut File, path: PathBuf, buf: &[u8]| -> Result<(), TlogError> {
            f.write_all(buf).map_err(|e| TlogError::io(&path, e))
        };
        write(&mut self.entries, dir.join("entries"), &st.entries)?;
        if !st.bundles.is_empty() {
            write(&mut self.bundles, dir.join("bundles"), &st.bundles)?;
        }
        for (t, buf) in st.levels.iter().enumerate() {
            if buf.is_empty() {
                continue;
            }
            if self.levels.len() <= t {
                self.levels.push(open_rw(&level_path(dir, t))?);
                self.new_file = true;
            }
            write(&mut self.levels[t], level_path(dir, t), buf)?;
        }
        Ok(())
    }

    /// Makes the data files durable up to the current size, records that
    /// in `state`, and lets the journal start over.
    fn sync_files(&mut self, dir: &Path) -> Result<(), TlogError> {
        self.write_out(dir, 0)?;
        let sync = |f: &File, path: PathBuf| f.sync_data().map_err(|e| TlogError::io(&path, e));
        sync(&self.entries, dir.join("entries"))?;
        sync(&self.bundles, dir.join("bundles"))?;
        for (t, f) in self.levels.iter().enumerate() {
            sync(f, level_path(dir, t))?;
        }
        self.stats.fsyncs += 2 + self.levels.len() as u64;
        if self.new_file {
            sync_dir(dir)?;
            self.new_file = false;
            self.stats.fsyncs += 1;
        }
        // A temporary file's fsync and its directory's.
        self.stats.fsyncs += 2;
        atomic_write(
            &dir.join("state"),
            format!("{} {}\n", self.size, self.entries_len).as_bytes(),
        )?;
        // Only now may records still needed for replay be overwritten.
        self.journal.restart();
        Ok(())
    }
}

impl Log {
    /// Opens (creating if needed) the log in `dir`, replaying acknowledged
    /// batches from the journal and discarding anything else.
    ///
    /// The returned writer holds the directory's exclusive lock until it is
    /// dropped: while it lives, another `open` of the same directory fails
    /// at once with [`TlogError::Locked`].
    pub fn open(dir: &Path, options: Options) -> Result<Self, TlogError> {
        fs::create_dir_all(dir).map_err(|e| TlogError::io(dir, e))?;
        let lock = lock_dir(dir)?;
        let corrupt = |why: String| TlogError::Corrupt {
            dir: dir.display().to_string(),
            why,
        };
        let (size, entries_len) = read_state(dir)?;
        let cut = |path: &Path, len: u64| -> Result<File, TlogError> {
            let f = open_rw(path)?;
            let have = f.metadata().map_err(|e| TlogError::io(path, e))?.len();
            if have < len {
                return Err(corrupt(format!(
                    "{} has {have} bytes, the committed state needs {len}",
                    path.display()
                )));
            }
            if have > len {
                f.set_len(len).map_err(|e| TlogError::io(path, e))?;
                f.sync_all().map_err(|e| TlogError::io(path, e))?;
            }
            Ok(f)
        };
        let entries = cut(&dir.join("entries"), entries_len)?;
        let bundles = cut(&dir.join("bundles"), size.div_ceil(TILE_WIDTH) * 8)?;
        let mut levels = Vec::new();
        let mut tails = Vec::new();
        for t in 0..8usize {
            let n = hashes_at_tile_level(size, t as u8);
            let path = level_path(dir, t);
            if n == 0 && t > 0 {
                // A level only batches past the durable state reached.
                if path.exists() {
                    cut(&path, 0)?;
                }
                continue;
            }
            let f = cut(&path, n * 32)?;
            let first = n - n % TILE_WIDTH;
            tails.push(read_hashes(&f, &path, first, n - first)?);
            levels.push(f);
        }
        let journal_path = dir.join("journal");
        let replay = journal::scan(&journal_path, size)?;
        if let Some(r) = replay.first() {
            if r.first > size {
                return Err(corrupt(format!(
                    "journal starts at entry {} but the data files end at {size}",
                    r.first
                )));
            }
        }
        // The journal's directory entry must be durable before any record
        // in it is acknowledged.
        let journal = Journal::open(&journal_path)?;
        sync_dir(dir)?;
        let mut writer = Writer {
            entries,
            bundles,
            levels,
            size,
            entries_len,
            tails,
            journal,
            new_file: true,
            failed: false,
            stats: AppendStats::default(),
            unwritten: Staged::default(),
        };
        if !replay.is_empty() {
            for rec in &replay {
                let skip = (writer.size - rec.first) as usize;
                writer.stage((skip..rec.entries.len()).map(|i| rec.entry(i)));
                writer.write_out(dir, DATA_BUFFER)?;
            }
            writer.sync_files(dir)?;
            writer.stats = AppendStats::default();
        }
        let (size, entries_len) = (writer.size, writer.entries_len);
        let sync_handles = (0..options.max_in_flight.max(1))
            .map(|_| File::open(&journal_path).map_err(|e| TlogError::io(&journal_path, e)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            dir: dir.to_path_buf(),
            options,
            shared: Mutex::new(Shared {
                next: size,
                durable: size,
                durable_entries_len: entries_len,
                ..Shared::default()
            }),
            writer: Mutex::new(writer),
            journal_syncs: AtomicU64::new(0),
            sync_handles: Mutex::new(sync_handles),
            lock: Some(lock),
        })
    }

    /// Leaves the log as a crash would: nothing more is written or synced
    /// (recovery on the next open replays the journal) and the directory's
    /// writer lock is released. For tests of recovery within one process.
    pub fn abandon(mut self) {
        drop(self.lock.take());
        std::mem::forget(self);
    }

    /// The directory of the log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock_shared(&self) -> MutexGuard<'_, Shared> {
        // A panic while holding the lock cannot leave `Shared` half-updated
        // in a way that matters: every field is written in one step.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends one entry and returns its index once it is durable.
    pub fn append(&self, entry: Vec<u8>) -> Result<u64, TlogError> {
        Ok(self.append_batch(vec![entry])?.start)
    }

    /// Appends entries (kept together, in order) and returns their index
    /// range once they are durable.
    pub fn append_batch(&self, entries: Vec<Vec<u8>>) -> Result<std::ops::Range<u64>, TlogError> {
        if let Some(e) = entries.iter().find(|e| e.len() > MAX_ENTRY_LEN) {
            return Err(LedgerError::EntryTooLarge(e.len()).into());
        }
        let mut sh = self.lock_shared();
        if let Some(p) = &sh.poisoned {
            return Err(TlogError::Poisoned(p.clone()));
        }
        let first = sh.next;
        if entries.is_empty() {
            return Ok(first..first);
        }
        sh.next += entries.len() as u64;
        let last = sh.next;
        sh.pending.push(Pending {
            entries,
            last,
            thread: std::thread::current(),
        });
        let max_in_flight = self.options.max_in_flight.max(1);
        loop {
            if let Some(p) = &sh.poisoned {
                return Err(TlogError::Poisoned(p.clone()));
            }
            if sh.durable >= last {
                return Ok(first..last);
            }
            if sh.pending.is_empty() || sh.in_flight >= max_in_flight {
                // Woken when this call is durable, or when it may lead the
                // next batch; a spurious wake-up just looks again.
                drop(sh);
                std::thread::park();
                sh = self.lock_shared();
                continue;
            }
            // Become the flusher of everything pending. If the previous
            // batch showed concurrent callers, first give them a moment to
            // join (a database's commit delay); a lone caller never waits.
            sh.in_flight += 1;
            let delay = sh.last_batch_calls > 1 && !self.options.commit_delay.is_zero();
            drop(sh);
            if delay {
                std::thread::sleep(self.options.commit_delay);
            }
            let result = self.flush();
            sh = self.lock_shared();
            sh.in_flight -= 1;
            match result {
                // Syncs may finish out of order; a later one covers every
                // record written before it started.
                Ok(Some((size, entries_len))) if size > sh.durable => {
                    sh.durable = size;
                    sh.durable_entries_len = entries_len;
                }
                Ok(_) => {}
                Err(e) => sh.poisoned = Some(e.to_string()),
            }
            sh.wake(max_in_flight);
        }
    }

    /// Takes the pending calls and writes them as one batch: its journal
    /// record and data files under the writer lock (so batches are written
    /// in the order their indices were given), then syncs the journal (the
    /// one fsync an append waits for) without it, so the next batch can be
    /// written meanwhile. `None` if another flusher took everything.
    fn flush(&self) -> Result<Option<(u64, u64)>, TlogError> {
        let (journal, path, end) = {
            let mut w = self
                .writer
                .lock()
                .map_err(|_| TlogError::Poisoned("writer".into()))?;
            if w.failed {
                return Err(TlogError::Poisoned("an earlier write failed".into()));
            }
            let batch: Vec<Vec<Vec<u8>>> = {
                let mut sh = self.lock_shared();
                // Whole calls only, so that a call's entries stay together.
                let mut take = 0;
                let mut count = 0;
                for call in &sh.pending {
                    if take > 0 && count + call.entries.len() > self.options.max_batch.max(1) {
                        break;
                    }
                    count += call.entries.len();
                    take += 1;
                }
                if take > 0 {
                    sh.last_batch_calls = take.max(sh.last_batch_calls / 2);
                }
                let calls: Vec<Pending> = sh.pending.drain(..take).collect();
                let mut batch = Vec::with_capacity(calls.len());
                for c in calls {
                    sh.waiting.push((c.last, c.thread));
                    batch.push(c.entries);
                }
                batch
            };
            if batch.is_empty() {
                return Ok(None);
            }
            let first = w.size;
            let from = w.stage(batch.iter().flatten().map(Vec::as_slice));
            let count = u32::try_from(w.size - first).map_err(|_| {
                w.failed = true;
                TlogError::Poisoned("batch too large".into())
            })?;
            if count == 0 {
                // A record of no entries would end the journal's chain.
                return Ok(None);
            }
            let payload = &w.unwritten.entries[from..];
            let mut record = Vec::with_capacity(journal::HEADER_LEN + payload.len());
            journal::encode(first, count, payload, &mut record);
            let dir = self.dir.clone();
            let written = w
                .journal
                .write(&record)
                .and_then(|()| w.write_out(&dir, DATA_BUFFER))
                .and_then(|()| {
                    if w.journal.written() >= self.options.journal_limit {
                        w.sync_files(&dir)
                    } else {
                        Ok(())
                    }
                });
            if let Err(e) = written {
                // The in-memory tree is ahead of the files now.
                w.failed = true;
                return Err(e);
            }
            w.stats.batches += 1;
            w.stats.entries += u64::from(count);
            let (file, path) = w.journal.file();
            (file, path.to_path_buf(), (w.size, w.entries_len))
        };
        // The commit point. Each sync in flight goes through its own open
        // file description, so that a write-back error is reported to every
        // sync that could cover the failed page, not just to the first.
        let own = self
            .sync_handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        let synced = own.as_ref().unwrap_or(&journal).sync_data();
        if let Some(f) = own {
            self.sync_handles
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(f);
        }
        synced.map_err(|e| TlogError::io(&path, e))?;
        self.journal_syncs.fetch_add(1, Ordering::Relaxed);
        Ok(Some(end))
    }

    /// Counters of the append path since the log was opened (replay on
    /// open not included).
    pub fn append_stats(&self) -> AppendStats {
        let mut stats = self
            .writer
            .lock()
            .map(|w| w.stats)
            .unwrap_or_else(|p| p.into_inner().stats);
        stats.fsyncs += self.journal_syncs.load(Ordering::Relaxed);
        stats
    }

    /// Number of durable entries.
    pub fn size(&self) -> u64 {
        self.lock_shared().durable
    }

    /// A reader of the log as of its current durable size.
    pub fn reader(&self) -> LogReader {
        // The data files must hold every durable entry before they are read.
        if let Ok(mut w) = self.writer.lock() {
            if !w.failed {
                let _ = w.write_out(&self.dir, 0);
            }
        }
        let sh = self.lock_shared();
        LogReader::at(&self.dir, sh.durable, sh.durable_entries_len)
    }

    /// Signs a checkpoint of the current durable tree with the log key (its
    /// name is the origin), without publishing it.
    pub fn sign_checkpoint(&self, key: &Signer) -> Result<Note, TlogError> {
        let mut r = self.reader();
        let cp = Checkpoint {
            origin: key.name().to_string(),
            size: r.size(),
            root: r.root()?,
            extensions: Vec::new(),
        };
        Ok(cp.sign(key)?)
    }

    /// Publishes a signed checkpoint (served at `/checkpoint`), after
    /// checking it matches this log and extends the last published one.
    pub fn publish_checkpoint(&self, note: &Note) -> Result<(), TlogError> {
        let cp = Checkpoint::parse(note.text())?;
        let mut r = self.reader();
        if cp.size > r.size() {
            return Err(TlogError::NotFound(format!(
                "checkpoint size {} is beyond the log size {}",
                cp.size,
                r.size()
            )));
        }
        let mut at = LogReader::at(&self.dir, cp.size, 0);
        if at.root()? != cp.root {
            return Err(TlogError::Corrupt {
                dir: self.dir.display().to_string(),
                why: format!("checkpoint root at size {} is not this log's", cp.size),
            });
        }
        if let Some(prev) = self.checkpoint()? {
            let old = Checkpoint::parse(Note::parse(&prev)?.text())?;
            let proof = r.prove_consistency(old.size, cp.size)?;
            proof.verify(&old.root, &cp.root)?;
        }
        atomic_write(&self.dir.join("checkpoint"), note.to_text().as_bytes())
    }

    /// Makes the data files durable and records that in `state`, so that
    /// reopening has no journal to replay (also done on drop).
    pub fn sync(&self) -> Result<(), TlogError> {
        if let Some(p) = &self.lock_shared().poisoned {
            return Err(TlogError::Poisoned(p.clone()));
        }
        let mut w = self
            .writer
            .lock()
            .map_err(|_| TlogError::Poisoned("writer".into()))?;
        if w.failed {
            return Err(TlogError::Poisoned("an earlier write failed".into()));
        }
        w.sync_files(&self.dir)
    }

    /// The latest published checkpoint, if any.
    pub fn checkpoint(&self) -> Result<Option<Vec<u8>>, TlogError> {
        read_checkpoint(&self.dir)
    }
}

/// The latest checkpoint published in the log directory `dir`, if any.
pub(crate) fn read_checkpoint(dir: &Path) -> Result<Option<Vec<u8>>, TlogError> {
    let p = dir.join("checkpoint");
    match fs::read(&p) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(TlogError::io(&p, e)),
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        // Best effort: the journal already makes every acknowledged batch
        // durable; this only spares the next open a replay. After a failed
        // write the in-memory state may be ahead of the files, so leave the
        // directory to recovery.
        let clean = self.lock_shared().poisoned.is_none();
        if let (true, Ok(mut w)) = (clean, self.writer.lock()) {
            if w.journal.written() > 0 && !w.failed {
                let _ = w.sync_files(&self.dir);
            }
        }
    }
}

/// A read-only view of a log directory at a fixed size; reads tiles and
/// entry bundles with positioned reads, so many readers can work alongside
/// the writer.
#[derive(Debug)]
pub struct LogReader {
    dir: PathBuf,
    size: u64,
    entries_len: u64,
    files: Vec<Option<File>>,
    /// Tiles read for earlier proofs, reused by later ones.
    cache: TileCache,
}

impl LogReader {
    /// A reader of the log in `dir` as of `size` entries (`entries_len` is
    /// the committed length of the entries file, needed for the last bundle).
    fn at(dir: &Path, size: u64, entries_len: u64) -> Self {
        Self {
            dir: dir.to_path_buf(),
            size,
            entries_len,
            files: Vec::new(),
            cache: TileCache::default(),
        }
    }

    /// Opens a reader of a log directory as of its last acknowledged batch
    /// whose data-file writes are complete, without taking part in writing
    /// (for tools that audit a log, possibly while its writer runs).
    pub fn open(dir: &Path) -> Result<Self, TlogError> {
        let (mut size, mut len) = read_state(dir)?;
        // Batches acknowledged since the data files were last synced are
        // in the journal; count those the data files already hold.
        let recs = journal::scan(&dir.join("journal"), size)?;
        if recs.first().is_some_and(|r| r.first <= size) {
            let have = |p: PathBuf| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            let entries_have = have(dir.join("entries"));
            let bundles_have = have(dir.join("bundles"));
            let levels_have: Vec<u64> = (0..8).map(|t| have(level_path(dir, t))).collect();
            for rec in &recs {
                let skip = (size - rec.first) as usize;
                let l = len
                    + rec.entries[skip..]
                        .iter()
                        .map(|(_, n)| 2 + *n as u64)
                        .sum::<u64>();
                let s = rec.end();
                let complete = l <= entries_have
                    && s.div_ceil(TILE_WIDTH) * 8 <= bundles_have
                    && levels_have
                        .iter()
                        .enumerate()
                        .all(|(t, h)| hashes_at_tile_level(s, t as u8) * 32 <= *h);
                if !complete {
                    break;
                }
                (size, len) = (s, l);
            }
        }
        Ok(Self::at(dir, size, len))
    }

    /// Number of entries visible to this reader.
    pub fn size(&self) -> u64 {
        self.size
    }

    // Slot 0..=7: level files; slot 8: entries; slot 9: bundles.
    fn file(&mut self, slot: usize) -> Result<(&File, PathBuf), TlogError> {
        let path = match slot {
            8 => self.dir.join("entries"),
            9 => self.dir.join("bundles"),
            t => level_path(&self.dir, t),
        };
        if self.files.len() <= slot {
            self.files.resize_with(slot + 1, || None);
        }
        if self.files[slot].is_none() {
            self.files[slot] = Some(File::open(&path).map_err(|e| TlogError::io(&path, e))?);
        }
        match &self.files[slot] {
            Some(f) => Ok((f, path)),
            None => Err(TlogError::NotFound(path.display().to_string())),
        }
    }

    /// Runs `f` on the tiles of the tree of `size` entries, through this
    /// reader's tile cache.
    fn with_nodes<T>(
        &mut self,
        size: u64,
        f: impl FnOnce(&mut TileNodes<&mut Self, &mut TileCache>) -> Result<T, LedgerError>,
    ) -> Result<T, TlogError> {
        let mut cache = std::mem::take(&mut self.cache);
        let out = f(&mut TileNodes::with_cache(&mut *self, size, &mut cache));
        self.cache = cache;
        Ok(out?)
    }

    /// Root hash of the tree at this reader's size.
    pub fn root(&mut self) -> Result<Hash, TlogError> {
        let size = self.size;
        self.with_nodes(size, |n| tree_root(n, size))
    }

    /// Inclusion proof of entry `index` in the tree of `size` entries
    /// (at most this reader's size).
    pub fn prove_inclusion(&mut self, index: u64, size: u64) -> Result<InclusionProof, TlogError> {
        self.check_size(size)?;
        self.with_nodes(size, |n| prove_inclusion(n, index, size))
    }

    /// Consistency proof from `old` to `new` entries (at most this
    /// reader's size).
    pub fn prove_consistency(&mut self, old: u64, new: u64) -> Result<ConsistencyProof, TlogError> {
        self.check_size(new)?;
        self.with_nodes(new, |n| prove_consistency(n, old, new))
    }

    fn check_size(&self, size: u64) -> Result<(), TlogError> {
        if size > self.size {
            return Err(TlogError::NotFound(format!(
                "tree size {size} (log has {})",
                self.size
            )));
        }
        Ok(())
    }

    /// The bytes of a tile or entry bundle as served over HTTP, if the log
    /// has that many hashes or entries.
    pub fn tile_bytes(&mut self, id: &TileId) -> Result<Vec<u8>, TlogError> {
        let missing = || TlogError::NotFound(id.path());
        let end = id
            .index
            .checked_mul(TILE_WIDTH)
            .and_then(|x| x.checked_add(u64::from(id.width)))
            .ok_or_else(missing)?;
        match id.kind {
            TileKind::Hash(t) => {
                if end > hashes_at_tile_level(self.size, t) {
                    return Err(missing());
                }
                let (f, path) = self.file(usize::from(t))?;
                let mut buf = vec![0u8; usize::from(id.width) * 32];
                f.read_exact_at(&mut buf, id.index * TILE_WIDTH * 32)
                    .map_err(|e| TlogError::io(&path, e))?;
                Ok(buf)
            }
            TileKind::Entries => {
                if end > self.size {
                    return Err(missing());
                }
                let bundles = self.size.div_ceil(TILE_WIDTH);
                let (idx, ipath) = self.file(9)?;
                let mut b = [0u8; 16];
                let start;
                let stop;
                if id.index + 1 < bundles {
                    idx.read_exact_at(&mut b, id.index * 8)
                        .map_err(|e| TlogError::io(&ipath, e))?;
                    start = u64::from_be_bytes(b[..8].try_into().unwrap_or_default());
                    stop = u64::from_be_bytes(b[8..].try_into().unwrap_or_default());
                } else {
                    idx.read_exact_at(&mut b[..8], id.index * 8)
                        .map_err(|e| TlogError::io(&ipath, e))?;
                    start = u64::from_be_bytes(b[..8].try_into().unwrap_or_default());
                    stop = self.entries_len;
                }
                if stop < start || stop - start > 256 * (MAX_ENTRY_LEN as u64 + 2) {
                    return Err(TlogError::Corrupt {
                        dir: self.dir.display().to_string(),
                        why: format!("bundle {} has bad offsets", id.index),
                    });
                }
                let (f, path) = self.file(8)?;
                let mut buf = vec![0u8; (stop - start) as usize];
                f.read_exact_at(&mut buf, start)
                    .map_err(|e| TlogError::io(&path, e))?;
                // Cut to the requested width.
                let mut off = 0usize;
                for _ in 0..id.width {
                    let len = buf
                        .get(off..off + 2)
                        .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
                        .ok_or_else(|| TlogError::Corrupt {
                            dir: self.dir.display().to_string(),
                            why: format!("bundle {} is truncated", id.index),
                        })?;
                    off += 2 + len;
                }
                if off > buf.len() {
                    return Err(TlogError::Corrupt {
                        dir: self.dir.display().to_string(),
                        why: format!("bundle {} is truncated", id.index),
                    });
                }
                buf.truncate(off);
                Ok(buf)
            }
        }
    }

    /// The data of entry `index`.
    pub fn entry(&mut self, index: u64) -> Result<Vec<u8>, TlogError> {
        if index >= self.size {
            return Err(TlogError::NotFound(format!(
                "entry {index} (log has {})",
                self.size
            )));
        }
        let bundle = index / TILE_WIDTH;
        let width = (self.size - bundle * TILE_WIDTH).min(TILE_WIDTH) as u16;
        let id = TileId {
            kind: TileKind::Entries,
            index: bundle,
            width,
        };
        let bytes = self.tile_bytes(&id)?;
        let entries = vigil_ledger::tiles::decode_bundle(&bytes)?;
        entries
            .get((index % TILE_WIDTH) as usize)
            .map(|e| e.to_vec())
            .ok_or_else(|| TlogError::NotFound(format!("entry {index}")))
    }
}

impl TileReader for LogReader {
    fn read_tile(&mut self, id: &TileId) -> Result<Vec<Hash>, LedgerError> {
        let bytes = self
            .tile_bytes(id)
            .map_err(|e| LedgerError::Storage(e.to_string()))?;
        decode_hash_tile(&bytes, id)
    }
}

/// An emptied buffer with its capacity kept (up to the data buffer size).
fn reuse(mut v: Vec<u8>) -> Vec<u8> {
    v.clear();
    v.shrink_to(DATA_BUFFER);
    v
}
