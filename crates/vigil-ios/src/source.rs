//! Where a module's files are: backup entries (domain + relative path) or
//! file-system paths, found from one description.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::backup::{Backup, Local};

/// A file a module reads, as a backup domain and relative path (SQL LIKE patterns).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Loc {
    pub domain: &'static str,
    pub rel: &'static str,
}

/// Shorthand for a [`Loc`].
pub(crate) const fn loc(domain: &'static str, rel: &'static str) -> Loc {
    Loc { domain, rel }
}

/// The acquisition a module reads from.
#[derive(Clone)]
pub(crate) enum Layout {
    Backup(Arc<Backup>),
    FileSystem(PathBuf),
}

/// A found file: the path shown to the user and a readable local copy.
pub(crate) struct Found {
    pub device_path: String,
    pub local: Local,
}

/// Most files one pattern may match (a hostile dump cannot make a module loop forever).
const MAX_MATCHES: usize = 1000;

/// File-system root of a backup domain (`*` stands for a container UUID).
fn fs_root(domain: &str) -> Option<String> {
    let (prefix, root) = [
        ("HomeDomain", "private/var/mobile"),
        ("RootDomain", "private/var/root"),
        ("WirelessDomain", "private/var/wireless"),
        ("SystemPreferencesDomain", "private/var/preferences"),
        (
            "AppDomainGroup-",
            "private/var/mobile/Containers/Shared/AppGroup/*",
        ),
        (
            "AppDomainPlugin-",
            "private/var/mobile/Containers/Data/PluginKitPlugin/*",
        ),
        (
            "AppDomain-",
            "private/var/mobile/Containers/Data/Application/*",
        ),
        (
            "SysSharedContainerDomain-",
            "private/var/containers/Shared/SystemGroup/*",
        ),
        (
            "SysContainerDomain-",
            "private/var/containers/Data/System/*",
        ),
        // Not a backup domain: installed app bundles, only in file-system dumps.
        (
            "ContainersBundle",
            "private/var/containers/Bundle/Application",
        ),
    ]
    .into_iter()
    .find(|(p, _)| domain.starts_with(p) || (domain == "%" && *p == "AppDomain-"))?;
    let _ = prefix;
    Some(root.to_string())
}

impl Layout {
    /// All readable files matching any of `locs`.
    pub fn find(&self, locs: &[Loc]) -> (Vec<Found>, Vec<String>) {
        let mut found = Vec::new();
        let mut warnings = Vec::new();
        match self {
            Layout::Backup(b) => {
                for l in locs {
                    match b.find(l.domain, l.rel) {
                        Ok(entries) => {
                            for e in entries {
                                match b.materialise(&e) {
                                    Ok(local) => found.push(Found {
                                        device_path: e.device_path(),
                                        local,
                                    }),
                                    Err(w) => warnings.push(w),
                                }
                            }
                        }
                        Err(w) => warnings.push(w),
                    }
                }
            }
            Layout::FileSystem(root) => {
                for l in locs {
                    let Some(base) = fs_root(l.domain) else {
                        continue;
                    };
                    let pattern = format!("{base}/{}", l.rel.replace('%', "*"));
                    for rel in glob(root, &pattern) {
                        found.push(Found {
                            local: Local::plain(root.join(&rel)),
                            device_path: rel,
                        });
                    }
                }
            }
        }
        (found, warnings)
    }
}

/// Matches `pattern` (components separated by `/`, `*` within a component) under `root`,
/// never following symbolic links. Returns paths relative to `root`.
pub(crate) fn glob(root: &Path, pattern: &str) -> Vec<String> {
    let mut current: Vec<String> = vec![String::new()];
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    for (idx, part) in parts.iter().enumerate() {
        let last = idx + 1 == parts.len();
        let mut next = Vec::new();
        for dir in &current {
            let dir_path = root.join(dir);
            let join = |name: &str| {
                if dir.is_empty() {
                    name.to_string()
                } else {
                    format!("{dir}/{name}")
                }
            };
            if !part.contains('*') {
                let candidate = join(part);
                if let Ok(m) = std::fs::symlink_metadata(root.join(&candidate)) {
                    if (last && m.is_file()) || (!last && m.is_dir()) {
                        next.push(candidate);
                    }
                }
                continue;
            }
            let Ok(rd) = std::fs::read_dir(&dir_path) else {
                continue;
            };
            for entry in rd.flatten().take(100_000) {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(ft) = entry.file_type() else { continue };
                let ok_type = if last { ft.is_file() } else { ft.is_dir() };
                if ok_type && wildcard(part, &name) {
                    next.push(join(&name));
                }
            }
        }
        next.sort();
        next.truncate(MAX_MATCHES);
        current = next;
    }
    current
}

/// Matches a name against a pattern where `*` stands for any run of characters (ASCII case-insensitive).
pub(crate) fn wildcard(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(|c| c.to_ascii_lowercase()).collect();
    let n: Vec<char> = name.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (mut pi, mut ni, mut star, mut mark) = (0usize, 0usize, None, 0usize);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == n[ni] || p[pi] == '?') {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}
