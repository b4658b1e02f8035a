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
        let temp = temp_builder().tempfile_in(sweep(parent_of(dest)))?;
        Ok(Self { temp, dest: dest.to_path_buf() })
    }

    /// The open temporary file, for writers that need `Read + Write + Seek`.
    pub fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Where the staged bytes are now (to read them back before committing).
    pub fn path(&self) -> &Path {
        self.temp.path()
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

/// Commits many staged files with one flush to disk for all of them (see
/// [`write_many`]): nothing is renamed into place before every one of them
/// is on disk, then the renames are made durable with their folders. One
/// result per file, in order.
pub fn commit_many(staged: Vec<StagedFile>, overwrite: bool) -> Vec<io::Result<()>> {
    let mut dirs: Vec<PathBuf> = staged.iter().map(|s| parent_of(&s.dest).to_path_buf()).collect();
    dirs.sort();
    dirs.dedup();
    let dir_refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    if let Err(e) = sync_dirs_filesystems(&dir_refs) {
        // Dropped, the staged files are removed: nothing half-done stays.
        return staged.iter().map(|_| Err(io::Error::new(e.kind(), e.to_string()))).collect();
    }
    let results = staged
        .into_iter()
        .map(|s| {
            let StagedFile { temp, dest } = s;
            let persisted = if overwrite { temp.persist(&dest) } else { temp.persist_noclobber(&dest) };
            persisted.map(drop).map_err(|e| e.error)
        })
        .collect();
    for dir in dirs {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    results
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
    use rayon::prelude::*;
    // Staged and renamed on the thread pool: per file this is all system
    // calls (create, chmod, write, close, rename), which overlap well.
    let staged: Vec<io::Result<tempfile::TempPath>> = items
        .par_iter()
        .map(|(dest, bytes)| {
            let mut temp = temp_builder().tempfile_in(sweep(parent_of(dest)))?;
            if let Some(mode) = mode {
                set_file_mode(temp.as_file(), mode)?;
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
        .into_par_iter()
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

/// Temporary files are named `.vouch-<pid>-<random>.part`: hidden, never
/// mistaken for an output, and traceable to the process that owns them.
const TEMP_PREFIX: &str = ".vouch-";
const TEMP_SUFFIX: &str = ".part";

fn temp_builder() -> tempfile::Builder<'static, 'static> {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| format!("{TEMP_PREFIX}{}-", std::process::id()));
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix.as_str()).suffix(TEMP_SUFFIX);
    builder
}

/// Removes, once per folder per run, the temporary files that killed vouch
/// runs left in `dir`: those whose owning process is gone. A temp file of a
/// run still going (another `vouch watch`, say) is left alone.
fn sweep(dir: &Path) -> &Path {
    static SWEPT: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    {
        let mut swept = SWEPT.lock().unwrap_or_else(|e| e.into_inner());
        if swept.iter().any(|d| d == dir) {
            return dir;
        }
        swept.push(dir.to_path_buf());
    }
    let Ok(entries) = fs::read_dir(dir) else { return dir };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if let Some(owner) = stale_owner(&name.to_string_lossy()) {
            if !process_alive(owner) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    dir
}

/// The owning process of one of vouch's temporary files, from its name.
/// Files from releases that did not record it (`.vouch-<random>.part`) have
/// no owner to ask about and are kept.
fn stale_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX)?;
    let (pid, _) = rest.split_once('-')?;
    pid.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return false };
    // EPERM means it exists under another user.
    !matches!(rustix::process::test_kill_process(pid), Err(rustix::io::Errno::SRCH))
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

/// Sets Unix permission bits on an open file (no path lookup); a no-op elsewhere.
fn set_file_mode(file: &File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (file, mode);
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
    fn staged_files_committed_together_land_whole_and_an_existing_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b"), "kept").unwrap();
        let stage = |name: &str| {
            let mut staged = StagedFile::new(&dir.path().join(name)).unwrap();
            staged.file().write_all(format!("new {name}").as_bytes()).unwrap();
            staged
        };
        let results = commit_many(vec![stage("a"), stage("b"), stage("c")], false);
        assert!(results[0].is_ok() && results[2].is_ok());
        assert_eq!(results[1].as_ref().unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(dir.path().join("a")).unwrap(), "new a");
        assert_eq!(std::fs::read_to_string(dir.path().join("b")).unwrap(), "kept");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 3, "no temporary file is left: {names:?}");
        assert!(commit_many(vec![stage("b")], true)[0].is_ok());
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

#[cfg(test)]
mod sweep_tests {
    use super::*;

    #[test]
    fn temp_files_of_dead_runs_are_swept_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // A process that has certainly exited, and this one (alive).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir.path().join(format!(".vouch-{dead}-abc123.part"));
        let live = dir.path().join(format!(".vouch-{}-def456.part", std::process::id()));
        let legacy = dir.path().join(".vouch-x1y2z3.part");
        let other = dir.path().join(".vouch-watch.sqlite");
        for path in [&stale, &live, &legacy, &other] {
            fs::write(path, "x").unwrap();
        }
        write_atomic(&dir.path().join("out.txt"), b"hello", None, false).unwrap();
        assert!(!stale.exists(), "a dead run's temp file is removed");
        assert!(live.exists() && legacy.exists() && other.exists());
        assert_eq!(fs::read(dir.path().join("out.txt")).unwrap(), b"hello");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 4, "{names:?}");
    }
}
