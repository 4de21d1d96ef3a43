//! C2SP `tlog-tiles`: tile coordinates, the path encoding, entry bundles, and
//! a [`NodeSource`] that answers proofs by reading O(log n) tiles.
//!
//! A tile at level `L` holds up to 256 consecutive hashes of level `8 L` of the
//! tree (level 0 tiles hold leaf hashes). A full tile has 256 hashes; the last
//! tile of a level may be partial and is then named `<index>.p/<width>`.

use std::borrow::BorrowMut;
use std::collections::HashMap;

use crate::merkle::{node_hash, Hash, NodeSource};
use crate::LedgerError;

/// Hashes per full tile (tile height 8).
pub const TILE_WIDTH: u64 = 256;
/// Tree levels spanned by one tile level.
pub const TILE_HEIGHT: u8 = 8;
/// Largest entry that fits an entry bundle (2-byte big-endian length prefix).
pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;

/// Encodes a tile index as path segments: `1234067` → `x001/x234/067`.
pub fn encode_index(mut n: u64) -> String {
    let mut parts = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        parts.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    parts.reverse();
    parts.join("/")
}

/// Which kind of tile a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileKind {
    /// A hash tile at the given tile level.
    Hash(u8),
    /// An entry bundle (`tile/entries/...`).
    Entries,
}

/// Coordinates of one tile or entry bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileId {
    /// Hash tile level or entry bundle.
    pub kind: TileKind,
    /// Tile index within its level.
    pub index: u64,
    /// Number of hashes (or entries), 1..=256; 256 is a full tile.
    pub width: u16,
}

impl TileId {
    /// The URL path of the tile, e.g. `tile/0/x003/906.p/64`.
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hash(l) => l.to_string(),
            TileKind::Entries => "entries".to_string(),
        };
        let mut p = format!("tile/{level}/{}", encode_index(self.index));
        if u64::from(self.width) < TILE_WIDTH {
            p.push_str(&format!(".p/{}", self.width));
        }
        p
    }

    /// Parses a canonical tile path (with or without a leading `/`).
    ///
    /// Non-canonical spellings (missing zero padding, `x` on the last
    /// segment, width 0 or 256 as partial) are rejected, so a mirror sees one
    /// URL per tile.
    pub fn parse_path(path: &str) -> Result<Self, LedgerError> {
        let bad = || LedgerError::TilePath(path.to_string());
        let rest = path
            .trim_start_matches('/')
            .strip_prefix("tile/")
            .ok_or_else(bad)?;
        let (level, rest) = rest.split_once('/').ok_or_else(bad)?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            if level.is_empty() || level.len() > 2 || !level.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let l: u8 = level.parse().map_err(|_| bad())?;
            if l.to_string() != level || l > 7 {
                return Err(bad());
            }
            TileKind::Hash(l)
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                if w.is_empty() || w.starts_with('0') || !w.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                let w: u16 = w.parse().map_err(|_| bad())?;
                if w == 0 || u64::from(w) >= TILE_WIDTH {
                    return Err(bad());
                }
                (i, w)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let segs: Vec<&str> = index_part.split('/').collect();
        if segs.len() > 7 {
            return Err(bad());
        }
        let mut index: u64 = 0;
        for (i, seg) in segs.iter().enumerate() {
            let last = i + 1 == segs.len();
            let digits = if last {
                *seg
            } else {
                seg.strip_prefix('x').ok_or_else(bad)?
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let d: u64 = digits.parse().map_err(|_| bad())?;
            index = index
                .checked_mul(1000)
                .and_then(|x| x.checked_add(d))
                .ok_or_else(bad)?;
        }
        if encode_index(index) != index_part {
            return Err(bad());
        }
        Ok(Self { kind, index, width })
    }
}

/// Number of stored hashes at tile level `tile_level` for a tree of `size`.
pub fn hashes_at_tile_level(size: u64, tile_level: u8) -> u64 {
    let shift = u32::from(tile_level) * u32::from(TILE_HEIGHT);
    if shift >= 64 {
        0
    } else {
        size >> shift
    }
}

/// The tiles (full ones and the final partial one, if any) that make up
/// level `tile_level` of a tree of `size` entries: `(full, partial_width)`.
pub fn tiles_at_level(size: u64, tile_level: u8) -> (u64, Option<u16>) {
    let n = hashes_at_tile_level(size, tile_level);
    let partial = (n % TILE_WIDTH) as u16;
    (n / TILE_WIDTH, (partial > 0).then_some(partial))
}

/// The tile that holds hash `index` of tile level `tile_level`, sized as it
/// exists in a tree of `size` entries.
pub fn tile_for(size: u64, tile_level: u8, index: u64) -> Option<TileId> {
    let n = hashes_at_tile_level(size, tile_level);
    if index >= n {
        return None;
    }
    let t = index / TILE_WIDTH;
    let width = (n - t * TILE_WIDTH).min(TILE_WIDTH) as u16;
    Some(TileId {
        kind: TileKind::Hash(tile_level),
        index: t,
        width,
    })
}

/// Encodes entries as an entry bundle: each entry prefixed by its length as
/// a 2-byte big-endian integer.
pub fn encode_bundle<'a>(
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, LedgerError> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| LedgerError::EntryTooLarge(e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Splits an entry bundle into its entries; at most 256 are accepted.
pub fn decode_bundle(bytes: &[u8]) -> Result<Vec<&[u8]>, LedgerError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if out.len() as u64 == TILE_WIDTH || rest.len() < 2 {
            return Err(LedgerError::Bundle(format!(
                "malformed bundle at entry {}",
                out.len()
            )));
        }
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let body = rest.get(2..2 + len).ok_or_else(|| {
            LedgerError::Bundle(format!(
                "entry {} runs past the end of the bundle",
                out.len()
            ))
        })?;
        out.push(body);
        rest = &rest[2 + len..];
    }
    Ok(out)
}

/// Decodes a hash tile body (concatenated 32-byte hashes).
pub fn decode_hash_tile(bytes: &[u8], id: &TileId) -> Result<Vec<Hash>, LedgerError> {
    if bytes.len() != usize::from(id.width) * 32 {
        return Err(LedgerError::Tile {
            path: id.path(),
            why: format!(
                "expected {} bytes, got {}",
                usize::from(id.width) * 32,
                bytes.len()
            ),
        });
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect())
}

/// Reads hash tiles from somewhere: a directory, an HTTP mirror, memory.
pub trait TileReader {
    /// Returns the hashes of tile `id` (exactly `id.width` of them).
    fn read_tile(&mut self, id: &TileId) -> Result<Vec<Hash>, LedgerError>;
}

/// The hashes of one tile and, computed on demand, the complete subtrees
/// inside it.
///
/// Node `(sub, i)` is the root of hashes `i << sub .. (i + 1) << sub` of the
/// tile; it is hashed the first time it is asked for and kept, so a proof
/// hashes only the nodes it needs and never the same node twice.
#[derive(Debug, Clone)]
struct TileLevels {
    /// `nodes[offset(sub) + i]`; level 0 holds the stored hashes.
    nodes: Vec<Hash>,
    known: Vec<bool>,
    width: usize,
}

impl TileLevels {
    fn new(base: Vec<Hash>) -> Self {
        let width = base.len();
        let total: usize = (0..TILE_HEIGHT).map(|s| width >> s).sum();
        let mut nodes = base;
        nodes.resize(total, [0; 32]);
        let mut known = vec![false; total];
        known[..width].fill(true);
        Self {
            nodes,
            known,
            width,
        }
    }

    fn offset(&self, sub: u8) -> usize {
        (0..sub).map(|s| self.width >> s).sum()
    }

    /// Node `i` of level `sub` inside the tile, if the tile holds all of it.
    fn node(&mut self, sub: u8, i: usize) -> Option<Hash> {
        if i >= self.width >> sub {
            return None;
        }
        let at = self.offset(sub) + i;
        if !self.known[at] {
            // sub > 0 here: level 0 is always known.
            let left = self.node(sub - 1, 2 * i)?;
            let right = self.node(sub - 1, 2 * i + 1)?;
            self.nodes[at] = node_hash(&left, &right);
            self.known[at] = true;
        }
        Some(self.nodes[at])
    }
}

/// Tiles already read, with the nodes hashed from them, shared by many
/// proofs.
///
/// A tile of a given width never changes in an append-only log (a partial
/// tile is a prefix of the later full one and has its own width), so cached
/// tiles stay valid as the tree grows. The cache holds at most about
/// `2 * capacity` tiles (two generations: a tile not used during a whole
/// generation is dropped).
#[derive(Debug, Clone)]
pub struct TileCache {
    hot: HashMap<(u8, u64, u16), TileLevels>,
    cold: HashMap<(u8, u64, u16), TileLevels>,
    capacity: usize,
}

impl Default for TileCache {
    fn default() -> Self {
        Self::new(128)
    }
}

impl TileCache {
    /// A cache of about `capacity` to `2 * capacity` tiles (at most 24 KiB
    /// each).
    pub fn new(capacity: usize) -> Self {
        Self {
            hot: HashMap::new(),
            cold: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// Number of tiles held.
    pub fn len(&self) -> usize {
        self.hot.len() + self.cold.len()
    }

    /// Whether no tile is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get_or_read<R: TileReader + ?Sized>(
        &mut self,
        reader: &mut R,
        id: &TileId,
        level: u8,
    ) -> Result<&mut TileLevels, LedgerError> {
        let key = (level, id.index, id.width);
        if !self.hot.contains_key(&key) {
            let tile = match self.cold.remove(&key) {
                Some(t) => t,
                None => {
                    let base = reader.read_tile(id)?;
                    if base.len() != usize::from(id.width) {
                        return Err(LedgerError::Tile {
                            path: id.path(),
                            why: "wrong number of hashes".into(),
                        });
                    }
                    TileLevels::new(base)
                }
            };
            if self.hot.len() >= self.capacity {
                self.cold = std::mem::take(&mut self.hot);
            }
            self.hot.insert(key, tile);
        }
        self.hot.get_mut(&key).ok_or(LedgerError::MissingNode {
            level: level * TILE_HEIGHT,
            index: id.index,
        })
    }
}

/// A [`NodeSource`] over tiles for a fixed tree size.
///
/// Each tile is read once and kept in a [`TileCache`] (its own, or one
/// passed to [`TileNodes::with_cache`] and shared across proofs); interior
/// nodes within a tile are hashed only when a proof needs them, so a proof
/// costs one read per tile level plus at most 255 hashes per tile, and
/// nothing for tiles already cached.
pub struct TileNodes<R, C = TileCache> {
    reader: R,
    size: u64,
    cache: C,
}

impl<R: TileReader> TileNodes<R> {
    /// Answers node queries for a tree of `size` entries from `reader`,
    /// with a cache of its own.
    pub fn new(reader: R, size: u64) -> Self {
        Self::with_cache(reader, size, TileCache::default())
    }
}

impl<R: TileReader, C: BorrowMut<TileCache>> TileNodes<R, C> {
    /// Answers node queries for a tree of `size` entries from `reader`,
    /// keeping tiles in `cache` (e.g. `&mut TileCache` owned by a long-lived
    /// reader).
    pub fn with_cache(reader: R, size: u64, cache: C) -> Self {
        Self {
            reader,
            size,
            cache,
        }
    }

    /// Gives the reader back.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: TileReader, C: BorrowMut<TileCache>> NodeSource for TileNodes<R, C> {
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, LedgerError> {
        let missing = LedgerError::MissingNode { level, index };
        let tile_level = level / TILE_HEIGHT;
        let sub = level % TILE_HEIGHT;
        let first = index.checked_shl(u32::from(sub)).ok_or(missing.clone())?;
        if first >> sub != index {
            return Err(missing);
        }
        let id = tile_for(self.size, tile_level, first).ok_or(missing.clone())?;
        let tile = self
            .cache
            .borrow_mut()
            .get_or_read(&mut self.reader, &id, tile_level)?;
        let within = ((first - id.index * TILE_WIDTH) >> sub) as usize;
        tile.node(sub, within).ok_or(missing)
    }
}

impl<T: TileReader + ?Sized> TileReader for &mut T {
    fn read_tile(&mut self, id: &TileId) -> Result<Vec<Hash>, LedgerError> {
        (**self).read_tile(id)
    }
}
