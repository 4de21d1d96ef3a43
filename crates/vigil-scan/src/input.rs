//! Recognising an acquisition and building its reader modules.

use std::path::{Path, PathBuf};

use vigil_artefact::Module;

use crate::Error;

/// What kind of acquisition a path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// An iTunes/Finder backup folder, plain or encrypted.
    IosBackup,
    /// An iOS full file-system dump.
    IosFs,
    /// A sysdiagnose archive or its extracted folder.
    Sysdiagnose,
    /// An Android bugreport zip or folder.
    AndroidBugreport,
    /// An androidqf acquisition folder or zip.
    Androidqf,
    /// An Android backup file (`adb backup`, `backup.ab`).
    AndroidBackup,
    /// A pcap or pcapng capture (or a folder of them).
    Pcap,
    /// Zeek logs.
    Zeek,
    /// A text log, or a folder of mixed captures and logs.
    Log,
}

impl InputKind {
    /// The subcommand word for this kind (`ios-backup`, `pcap` …).
    pub fn word(self) -> &'static str {
        match self {
            InputKind::IosBackup => "ios-backup",
            InputKind::IosFs => "ios-fs",
            InputKind::Sysdiagnose => "sysdiagnose",
            InputKind::AndroidBugreport => "android-bugreport",
            InputKind::Androidqf => "androidqf",
            InputKind::AndroidBackup => "android-backup",
            InputKind::Pcap => "pcap",
            InputKind::Zeek => "zeek",
            InputKind::Log => "log",
        }
    }

    /// The kind for a subcommand word.
    pub fn from_word(w: &str) -> Option<InputKind> {
        [
            InputKind::IosBackup,
            InputKind::IosFs,
            InputKind::Sysdiagnose,
            InputKind::AndroidBugreport,
            InputKind::Androidqf,
            InputKind::AndroidBackup,
            InputKind::Pcap,
            InputKind::Zeek,
            InputKind::Log,
        ]
        .into_iter()
        .find(|k| k.word() == w)
    }

    /// A description for the report.
    pub fn describe(self) -> &'static str {
        match self {
            InputKind::IosBackup => "iOS backup",
            InputKind::IosFs => "iOS file-system dump",
            InputKind::Sysdiagnose => "iOS sysdiagnose",
            InputKind::AndroidBugreport => "Android bugreport",
            InputKind::Androidqf => "androidqf acquisition",
            InputKind::AndroidBackup => "Android backup",
            InputKind::Pcap => "packet capture",
            InputKind::Zeek => "Zeek logs",
            InputKind::Log => "text log",
        }
    }
}

/// A path to scan and what it is.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as given.
    pub path: PathBuf,
    /// What it holds.
    pub kind: InputKind,
}

impl Input {
    /// Recognises what `path` holds; phones first, then captures, Zeek logs, text.
    pub fn detect(path: &Path) -> Result<Input, Error> {
        if !path.exists() {
            return Err(Error::Input(format!(
                "{}: no such file or folder",
                path.display()
            )));
        }
        // The order matters: an androidqf folder holds a `ps.txt` like an
        // extracted sysdiagnose, so the Android probes (which look for files
        // a sysdiagnose never has) go before the sysdiagnose one; the
        // file-system dump goes before both because a whole `private/var`
        // tree may hold any file name somewhere.
        let kind = if vigil_ios::looks_like_backup(path) {
            InputKind::IosBackup
        } else if vigil_ios::looks_like_filesystem(path) {
            InputKind::IosFs
        } else if vigil_android::looks_like_android_backup(path) {
            InputKind::AndroidBackup
        } else if vigil_android::looks_like_androidqf(path) {
            InputKind::Androidqf
        } else if vigil_android::looks_like_bugreport(path) {
            InputKind::AndroidBugreport
        } else if vigil_ios::looks_like_sysdiagnose(path) {
            InputKind::Sysdiagnose
        } else if vigil_netlog::looks_like_pcap(path) {
            InputKind::Pcap
        } else if vigil_netlog::looks_like_zeek(path) {
            InputKind::Zeek
        } else {
            InputKind::Log
        };
        Ok(Input {
            path: path.to_path_buf(),
            kind,
        })
    }

    /// The reader modules for this input.
    ///
    /// `unlock` is used for encrypted iOS backups (a password also for encrypted Android backups); `netlog` options (the
    /// matcher's filter) for captures and logs.
    pub fn modules(
        &self,
        unlock: Option<vigil_ios::Unlock>,
        netlog: &vigil_netlog::Options,
    ) -> Result<Vec<Box<dyn Module>>, Error> {
        let p = &self.path;
        let e = |m: String| Error::Input(m);
        match self.kind {
            InputKind::IosBackup => {
                vigil_ios::backup_modules(p, unlock).map_err(|x| e(x.to_string()))
            }
            InputKind::IosFs => vigil_ios::filesystem_modules(p).map_err(|x| e(x.to_string())),
            InputKind::Sysdiagnose => {
                vigil_ios::sysdiagnose_modules(p).map_err(|x| e(x.to_string()))
            }
            InputKind::AndroidBugreport => {
                vigil_android::bugreport_modules(p).map_err(|x| e(x.to_string()))
            }
            InputKind::Androidqf => {
                vigil_android::androidqf_modules(p).map_err(|x| e(x.to_string()))
            }
            InputKind::AndroidBackup => {
                let password = match &unlock {
                    Some(vigil_ios::Unlock::Password(pw)) => Some(pw.as_str()),
                    _ => None,
                };
                vigil_android::android_backup_modules(p, password).map_err(|x| e(x.to_string()))
            }
            InputKind::Pcap => vigil_netlog::pcap_modules(p, netlog).map_err(|x| e(x.to_string())),
            InputKind::Zeek => vigil_netlog::zeek_modules(p, netlog).map_err(|x| e(x.to_string())),
            InputKind::Log if p.is_dir() => {
                vigil_netlog::auto_modules(p, netlog).map_err(|x| e(x.to_string()))
            }
            InputKind::Log => vigil_netlog::log_modules(p, netlog).map_err(|x| e(x.to_string())),
        }
    }
}
