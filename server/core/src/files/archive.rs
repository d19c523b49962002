//! Folders uploaded as one archive (`.zip`, `.tar`, `.tar.gz`, `.tgz`): expanded in
//! memory under the same limits as separate files — each entry at most the per-file
//! limit, all of them together at most the request limit, whatever the archive claims —
//! so a small archive cannot expand into a bomb. Directories and links are skipped;
//! Finder metadata is skipped, and reported, with the upload's other files.

use std::io::{Cursor, Read};

use super::{FileSettings, upload::IncomingFile};
use crate::ServiceError;

/// Most entries one archive may hold.
const MAX_ENTRIES: usize = 50_000;

pub fn is_archive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [".zip", ".tar", ".tar.gz", ".tgz"]
        .iter()
        .any(|extension| name.ends_with(extension))
}

pub(super) fn expand(
    name: &str,
    bytes: &[u8],
    limits: &FileSettings,
) -> Result<Vec<IncomingFile>, ServiceError> {
    let lower = name.to_ascii_lowercase();
    let mut budget = Budget {
        archive: name,
        limits,
        total: 0,
        entries: Vec::new(),
    };
    if lower.ends_with(".zip") {
        zip_entries(bytes, &mut budget)?;
    } else if lower.ends_with(".tar") {
        tar_entries(bytes, &mut budget)?;
    } else {
        // Every gzip member: parallel compressors (pigz, bgzip) write several.
        tar_entries(flate2::read::MultiGzDecoder::new(bytes), &mut budget)?;
    }
    Ok(budget.entries)
}

struct Budget<'a> {
    archive: &'a str,
    limits: &'a FileSettings,
    total: u64,
    entries: Vec<IncomingFile>,
}

impl Budget<'_> {
    /// Reads one entry, never more than the limits allow.
    fn take(&mut self, name: String, reader: impl Read) -> Result<(), ServiceError> {
        if self.entries.len() >= MAX_ENTRIES {
            return Err(ServiceError::invalid_field(
                "files",
                format!("{:?} holds more than {MAX_ENTRIES} files", self.archive),
            ));
        }
        let per_file = self.limits.max_file_bytes;
        let mut bytes = Vec::new();
        reader
            .take(per_file + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.unreadable(&e))?;
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if size > per_file {
            return Err(self.limits.file_too_large(&name));
        }
        self.total += size;
        if self.total > self.limits.max_request_bytes {
            let limit = self.limits.max_request_bytes;
            return Err(ServiceError::too_large(
                format!("{:?} expands to more than {limit} bytes", self.archive),
                limit,
            ));
        }
        self.entries.push(IncomingFile { name, bytes });
        Ok(())
    }

    fn unreadable(&self, error: &dyn std::fmt::Display) -> ServiceError {
        ServiceError::invalid_field(
            "files",
            format!("{:?} is not a readable archive: {error}", self.archive),
        )
    }
}

fn zip_entries(bytes: &[u8], budget: &mut Budget) -> Result<(), ServiceError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| budget.unreadable(&e))?;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(|e| budget.unreadable(&e))?;
        if entry.is_dir() || entry.is_symlink() {
            continue;
        }
        let name = entry.name().to_owned();
        budget.take(name, entry)?;
    }
    Ok(())
}

fn tar_entries(reader: impl Read, budget: &mut Budget) -> Result<(), ServiceError> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|e| budget.unreadable(&e))?;
    for entry in entries {
        let entry = entry.map_err(|e| budget.unreadable(&e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        budget.take(name, entry)?;
    }
    Ok(())
}
