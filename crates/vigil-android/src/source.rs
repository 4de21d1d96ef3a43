//! Reading members of an acquisition that is either a folder or a zip
//! archive, without extracting anything and with bounded memory.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Most bytes read from one member (a compression bomb stops here).
pub(crate) const MAX_MEMBER: u64 = 1 << 30;
/// Most bytes of one line kept; the rest of a longer line is skipped.
const MAX_LINE: usize = 64 << 10;
/// Most members listed from one acquisition.
const MAX_MEMBERS: usize = 200_000;

/// A folder or zip archive holding an acquisition.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    Dir(PathBuf),
    Zip(PathBuf),
}

impl Source {
    pub(crate) fn open(path: &Path) -> Source {
        if path.is_dir() {
            Source::Dir(path.to_path_buf())
        } else {
            Source::Zip(path.to_path_buf())
        }
    }

    /// Member names (`/`-separated, relative), regular files only; symbolic links are never followed.
    pub(crate) fn names(&self) -> Result<Vec<String>, String> {
        match self {
            Source::Dir(root) => {
                let mut out = Vec::new();
                let mut stack = vec![PathBuf::new()];
                while let Some(rel) = stack.pop() {
                    let Ok(rd) = std::fs::read_dir(root.join(&rel)) else {
                        continue;
                    };
                    for e in rd.flatten() {
                        let Ok(ft) = e.file_type() else { continue };
                        let child = rel.join(e.file_name());
                        if ft.is_dir() {
                            stack.push(child);
                        } else if ft.is_file() && out.len() < MAX_MEMBERS {
                            out.push(child.to_string_lossy().replace('\\', "/"));
                        }
                    }
                }
                out.sort();
                Ok(out)
            }
            Source::Zip(path) => {
                let archive = open_zip(path)?;
                let mut out: Vec<String> = archive
                    .file_names()
                    .filter(|n| !n.ends_with('/'))
                    .take(MAX_MEMBERS)
                    .map(str::to_string)
                    .collect();
                out.sort();
                Ok(out)
            }
        }
    }

    /// Calls `f` with a reader over one member, capped at [`MAX_MEMBER`] bytes.
    pub(crate) fn with_member<T>(
        &self,
        name: &str,
        f: impl FnOnce(&mut dyn BufRead) -> T,
    ) -> Result<T, String> {
        match self {
            Source::Dir(root) => {
                if name.split('/').any(|c| c == "..") {
                    return Err(format!("{name}: refusing a path outside the acquisition"));
                }
                let p = root.join(name);
                let meta = std::fs::symlink_metadata(&p).map_err(|e| format!("{name}: {e}"))?;
                if !meta.is_file() {
                    return Err(format!("{name}: not a regular file"));
                }
                let file = std::fs::File::open(&p).map_err(|e| format!("{name}: {e}"))?;
                let mut r = BufReader::new(file.take(MAX_MEMBER));
                Ok(f(&mut r))
            }
            Source::Zip(path) => {
                let mut archive = open_zip(path)?;
                let entry = archive.by_name(name).map_err(|e| format!("{name}: {e}"))?;
                let mut r = BufReader::new(entry.take(MAX_MEMBER));
                Ok(f(&mut r))
            }
        }
    }

    /// Reads a whole member, up to `cap` bytes.
    pub(crate) fn read(&self, name: &str, cap: u64) -> Result<Vec<u8>, String> {
        self.with_member(name, |r| {
            let mut buf = Vec::new();
            r.take(cap)
                .read_to_end(&mut buf)
                .map(|_| buf)
                .map_err(|e| format!("{name}: {e}"))
        })?
    }

    /// A label for errors: the archive or folder name.
    pub(crate) fn label(&self) -> String {
        let p = match self {
            Source::Dir(p) | Source::Zip(p) => p,
        };
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<BufReader<std::fs::File>>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| format!("not a readable zip archive: {e}"))
}

/// Calls `f(line_number, line)` for every line of `r`; over-long lines are cut, invalid UTF-8 replaced.
pub(crate) fn for_each_line(
    r: &mut dyn BufRead,
    mut f: impl FnMut(u64, &str) -> bool,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(256);
    let mut n = 0u64;
    loop {
        buf.clear();
        let read = read_line_capped(r, &mut buf)?;
        if read == 0 {
            return Ok(());
        }
        n += 1;
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        if !f(n, &String::from_utf8_lossy(&buf)) {
            return Ok(());
        }
    }
}

fn read_line_capped(r: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(total);
        }
        let (done, used) = match memchr(available) {
            Some(i) => (true, i + 1),
            None => (false, available.len()),
        };
        let room = MAX_LINE.saturating_sub(buf.len());
        buf.extend_from_slice(&available[..used.min(room)]);
        r.consume(used);
        total += used;
        if done {
            return Ok(total);
        }
    }
}

fn memchr(b: &[u8]) -> Option<usize> {
    b.iter().position(|c| *c == b'\n')
}
