//! Synthetic Android acquisitions: androidqf folders and bugreport zips.

use std::path::Path;

use crate::{Error, Planted, Plants};

/// What Android acquisition to write.
#[derive(Debug, Clone, Default)]
pub struct AndroidSpec {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of benign installed packages.
    pub packages: usize,
    /// Indicator values to plant.
    pub plants: Plants,
}

/// Writes an androidqf acquisition folder into `dir`.
pub fn write_androidqf(_dir: &Path, _spec: &AndroidSpec) -> Result<Vec<Planted>, Error> {
    Ok(Vec::new())
}

/// Writes a bugreport zip at `path`.
pub fn write_bugreport(_path: &Path, _spec: &AndroidSpec) -> Result<Vec<Planted>, Error> {
    Ok(Vec::new())
}
