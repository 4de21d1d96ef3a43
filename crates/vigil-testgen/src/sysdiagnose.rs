//! Synthetic sysdiagnose archives and zipped acquisition folders.

use std::io::Write as _;
use std::path::Path;

use crate::{io_err, Error, Planted, Plants};

/// Writes a `sysdiagnose_….tar.gz` at `path` whose shutdown.log lists the
/// planted file paths as processes still running at shutdown (and whose
/// ps.txt lists the planted process names); returns the planted hits.
pub fn write_sysdiagnose(path: &Path, plants: &Plants) -> Result<Vec<Planted>, Error> {
    let fmt_err = |message: String| Error::Format {
        path: path.display().to_string(),
        message,
    };
    let mut shutdown = String::from("remaining client pid: 1 (/sbin/launchd)\n");
    let mut planted = Vec::new();
    for (i, p) in plants.file_paths.iter().enumerate() {
        shutdown.push_str(&format!("remaining client pid: {} ({p})\n", 4000 + i));
        planted.push(Planted {
            module: "shutdown_log",
            value: p.clone(),
        });
    }
    shutdown.push_str("SIGTERM: [1709251200]\n");
    let mut ps = String::from("USER UID PID PPID COMMAND\nroot 0 1 0 /sbin/launchd\n");
    for (i, p) in plants.processes.iter().enumerate() {
        // iOS ps lists the full executable path.
        ps.push_str(&format!("mobile 501 {} 1 /private/var/tmp/{p}\n", 700 + i));
        planted.push(Planted {
            module: "processes",
            value: p.clone(),
        });
    }
    let root = "sysdiagnose_2024.03.01_00-00-00+0000_iPhone-OS_iPhone_21D61";
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, data) in [
        (
            format!("{root}/system_logs.logarchive/Extra/shutdown.log"),
            shutdown,
        ),
        (format!("{root}/ps.txt"), ps),
    ] {
        crate::tar_file(&mut tar, &name, data.as_bytes()).map_err(|e| fmt_err(e.to_string()))?;
    }
    let gz = tar
        .into_inner()
        .and_then(|z| z.finish())
        .map_err(|e| fmt_err(e.to_string()))?;
    std::fs::write(path, gz).map_err(io_err(path))?;
    planted.sort();
    Ok(planted)
}

/// Zips the files of folder `dir` (recursively, names relative to it) into `zip_path`.
pub fn zip_folder(dir: &Path, zip_path: &Path) -> Result<(), Error> {
    let file = std::fs::File::create(zip_path).map_err(io_err(zip_path))?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(io_err(&d))? {
            let p = e.map_err(io_err(&d))?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let zip_err = |e: zip::result::ZipError| Error::Format {
        path: zip_path.display().to_string(),
        message: e.to_string(),
    };
    for p in files {
        let name = p
            .strip_prefix(dir)
            .unwrap_or(&p)
            .to_string_lossy()
            .replace('\\', "/");
        zip.start_file(name, options).map_err(zip_err)?;
        let data = std::fs::read(&p).map_err(io_err(&p))?;
        zip.write_all(&data).map_err(io_err(zip_path))?;
    }
    zip.finish().map_err(zip_err)?;
    Ok(())
}
