//! Crash-safe file output: every file vouch writes appears whole or not at all.
//!
//! Output goes to a hidden temporary file in the destination directory (same
//! filesystem, so the final rename is atomic), is flushed to disk, and only
//! then renamed over its final name.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Permission bits for secrets (private keys).
pub const SECRET_MODE: u32 = 0o600;

/// A temporary file next to its final destination; dropped without
/// [`StagedFile::commit`] it is removed, leaving nothing behind.
pub struct StagedFile {
    temp: NamedTempFile,
    dest: PathBuf,
}

impl StagedFile {
    /// Stages a new file that will become `dest`.
    pub fn new(dest: &Path) -> io::Result<Self> {
        let temp = tempfile::Builder::new().prefix(".vouch-").suffix(".part").tempfile_in(parent_of(dest))?;
        Ok(Self { temp, dest: dest.to_path_buf() })
    }

    /// The open temporary file, for writers that need `Read + Write + Seek`.
    pub fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Sets the permission bits the final file will have.
    pub fn set_mode(&self, mode: u32) -> io::Result<()> {
        set_mode(self.temp.path(), mode)
    }

    /// Flushes to disk and renames into place. With `overwrite` false an
    /// existing destination is left untouched and `AlreadyExists` is returned.
    pub fn commit(mut self, overwrite: bool) -> io::Result<()> {
        self.temp.as_file_mut().flush()?;
        self.temp.as_file().sync_all()?;
        let result = if overwrite {
            self.temp.persist(&self.dest).map(drop)
        } else {
            self.temp.persist_noclobber(&self.dest).map(drop)
        };
        result.map_err(|e| e.error)
    }
}

/// Writes `bytes` to `dest` atomically, optionally with restricted permissions.
pub fn write_atomic(dest: &Path, bytes: &[u8], mode: Option<u32>, overwrite: bool) -> io::Result<()> {
    let mut staged = StagedFile::new(dest)?;
    if let Some(mode) = mode {
        staged.set_mode(mode)?;
    }
    staged.file().write_all(bytes)?;
    staged.commit(overwrite)
}

/// Writes many small files atomically with one flush to disk for all of
/// them instead of one per file: thousands of receipts would otherwise cost
/// thousands of fsyncs, far more than hashing the files they cover. Each
/// destination still appears whole or not at all, since nothing is renamed
/// into place before every temporary file is on disk. One result per item.
pub fn write_many(items: &[(PathBuf, Vec<u8>)], mode: Option<u32>, overwrite: bool) -> Vec<io::Result<()>> {
    let staged: Vec<io::Result<tempfile::TempPath>> = items
        .iter()
        .map(|(dest, bytes)| {
            let mut temp = tempfile::Builder::new().prefix(".vouch-").suffix(".part").tempfile_in(parent_of(dest))?;
            if let Some(mode) = mode {
                set_mode(temp.path(), mode)?;
            }
            temp.write_all(bytes)?;
            // Closed now so a large batch never runs out of descriptors.
            Ok(temp.into_temp_path())
        })
        .collect();
    let mut dirs: Vec<&Path> = items.iter().map(|(dest, _)| parent_of(dest)).collect();
    dirs.sort();
    dirs.dedup();
    if let Err(e) = sync_dirs_filesystems(&dirs) {
        return items.iter().map(|_| Err(io::Error::new(e.kind(), e.to_string()))).collect();
    }
    let results = staged
        .into_iter()
        .zip(items)
        .map(|(temp, (dest, _))| {
            let temp = temp?;
            let persisted = if overwrite { temp.persist(dest) } else { temp.persist_noclobber(dest) };
            persisted.map_err(|e| e.error)
        })
        .collect();
    for dir in dirs {
        // The renames themselves become durable with the directory.
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    results
}

fn parent_of(dest: &Path) -> &Path {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Flushes every filesystem holding one of `dirs` (Linux `syncfs`).
fn sync_dirs_filesystems(dirs: &[&Path]) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let mut devices = Vec::new();
        for dir in dirs {
            let handle = File::open(dir)?;
            let device = handle.metadata()?.dev();
            if !devices.contains(&device) {
                devices.push(device);
                rustix::fs::syncfs(&handle)?;
            }
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        // No syncfs: fall back to a full sync, still once per batch.
        let _ = dirs;
        rustix::fs::sync();
        Ok(())
    }
}

/// Sets Unix permission bits; a no-op elsewhere.
pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// The permission bits of a file (0 where the platform has none).
pub fn mode_of(path: &Path) -> io::Result<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(fs::metadata(path)?.permissions().mode() & 0o777)
    }
    #[cfg(not(unix))]
    {
        let _ = fs::metadata(path)?;
        Ok(0)
    }
}

/// Creates a directory (and parents) that only its owner can enter.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_files_land_whole_and_an_existing_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b"), "kept").unwrap();
        let items: Vec<(PathBuf, Vec<u8>)> =
            ["a", "b", "c"].iter().map(|n| (dir.path().join(n), format!("new {n}").into_bytes())).collect();
        let results = write_many(&items, Some(0o640), false);
        assert!(results[0].is_ok() && results[2].is_ok());
        assert_eq!(results[1].as_ref().unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(dir.path().join("a")).unwrap(), "new a");
        assert_eq!(std::fs::read_to_string(dir.path().join("b")).unwrap(), "kept");
        assert_eq!(mode_of(&dir.path().join("c")).unwrap() & 0o777, 0o640);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 3, "no temporary file is left: {names:?}");
        assert!(write_many(&items, None, true).iter().all(Result::is_ok));
        assert_eq!(std::fs::read_to_string(dir.path().join("b")).unwrap(), "new b");
    }

    #[test]
    fn atomic_write_refuses_to_clobber_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.txt");
        write_atomic(&dest, b"first", None, false).unwrap();
        let err = write_atomic(&dest, b"second", None, false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&dest).unwrap(), b"first");
        write_atomic(&dest, b"third", Some(SECRET_MODE), true).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"third");
        assert_eq!(mode_of(&dest).unwrap(), SECRET_MODE);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "temporary files left behind: {names:?}");
    }

    #[test]
    fn dropped_stage_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.bin");
        {
            let mut staged = StagedFile::new(&dest).unwrap();
            staged.file().write_all(b"half").unwrap();
        }
        assert!(!dest.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
