//! Walking the paths a user named into the files a command works on.
//!
//! One set of rules for every command (`sign`, `verify`, `check`, `detect`,
//! `anchor`, `watch`), so that nothing under a named path is left out
//! silently:
//! - a named file is taken as it is (through a symlink too);
//! - inside a named folder, hidden files and folders are walked like any
//!   other, and symlinks are followed (to files and to folders, with loop
//!   protection); a file reached through a link says so (`link`);
//! - what is not taken is [`Walked::Skipped`] with the reason — a dangling
//!   link, a link loop, a special file (FIFO, socket, device) — so callers
//!   count it and say so; what cannot be read is an error;
//! - only vouch's own files are passed over without a word: receipts and
//!   sidecars (`.ots`, `.anchor.json`, `.c2pa`), which are read with the file
//!   they belong to, and its state and temporary files (`.vouch-*`).
//!
//! Walking is lazy: folders are read as the stream is consumed, so a run over
//! millions of files holds one directory listing at a time.

use std::io;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::media::InputError;

/// A file to work on.
#[derive(Debug, Clone)]
pub struct FoundFile {
    pub path: PathBuf,
    /// Where the file sits relative to what the user named: its file name
    /// for a named file, its path below the folder for a walked one.
    pub relative: PathBuf,
    /// Named on the command line, rather than found inside a folder.
    pub named: bool,
    /// Reached through a symbolic link (the file itself, or a folder above it).
    pub link: bool,
}

/// Why a path under a named folder was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// A symbolic link whose target does not exist.
    DanglingLink,
    /// A symbolic link to a folder above it.
    LinkLoop,
    /// A FIFO, socket or device.
    Special,
    /// Not a format the command handles (`sign`, `detect`: not media).
    NotMedia,
    /// Left out by the policy's `include` / `exclude`.
    Excluded,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DanglingLink => "dangling symlink",
            Self::LinkLoop => "symlink loop",
            Self::Special => "not a regular file",
            Self::NotMedia => "not a media file",
            Self::Excluded => "excluded by the policy",
        }
    }
}

/// One entry of a walk.
#[derive(Debug, Clone)]
pub enum Walked {
    File(FoundFile),
    Skipped { path: PathBuf, why: SkipReason },
}

/// Suffixes of files vouch writes beside media; never inputs themselves.
pub const OWN_OUTPUTS: &[&str] = &[".ots", ".anchor.json", ".c2pa"];

/// The prefix of vouch's own state and temporary files (`.vouch-*.part`,
/// the watch journal).
pub const OWN_STATE_PREFIX: &str = ".vouch-";

/// Whether a file is vouch's own: a receipt, a sidecar, state or a temp
/// file, or an earlier receipt kept when the content changed (`x.jpg.ots.1`).
pub fn is_own_file(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let kept = name
        .rsplit_once('.')
        .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .is_some_and(|(receipt, _)| receipt.ends_with(".ots") || receipt.ends_with(".anchor.json"));
    kept || name.starts_with(OWN_STATE_PREFIX) || OWN_OUTPUTS.iter().any(|suffix| name.ends_with(suffix))
}

/// Walks `paths` as the module documentation says, lazily, in a stable
/// order (named paths as given, folders in file-name order).
pub fn walk(paths: Vec<PathBuf>) -> impl Iterator<Item = Result<Walked, InputError>> {
    paths.into_iter().flat_map(|path| -> Box<dyn Iterator<Item = Result<Walked, InputError>>> {
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => Box::new(walk_folder(path)),
            Ok(meta) if meta.is_file() => {
                let link = is_symlink(&path);
                let relative = PathBuf::from(path.file_name().unwrap_or(path.as_os_str()));
                Box::new(std::iter::once(Ok(Walked::File(FoundFile { path, relative, named: true, link }))))
            }
            Ok(_) => Box::new(std::iter::once(Err(InputError::NotRegular(path)))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Box::new(std::iter::once(Err(InputError::Missing(path)))),
            Err(source) => Box::new(std::iter::once(Err(InputError::Io { path, source }))),
        }
    })
}

fn walk_folder(root: PathBuf) -> impl Iterator<Item = Result<Walked, InputError>> {
    let below_link = is_symlink(&root);
    let entries = WalkDir::new(&root).follow_links(true).sort_by_file_name().into_iter();
    let walk_root = root.clone();
    let mut found = entries
        .filter_map(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => return Some(walk_error(&walk_root, e)),
            };
            let file_type = entry.file_type();
            if file_type.is_dir() {
                return None;
            }
            let path = entry.path();
            if !file_type.is_file() {
                return Some(Ok(Walked::Skipped { path: entry.into_path(), why: SkipReason::Special }));
            }
            if is_own_file(path) {
                return None;
            }
            let relative = path.strip_prefix(&walk_root).unwrap_or(path).to_path_buf();
            let link = below_link || entry.path_is_symlink() || has_link_above(&walk_root, &relative);
            Some(Ok(Walked::File(FoundFile { path: entry.into_path(), relative, named: false, link })))
        })
        .peekable();
    // A folder with nothing in it is worth saying.
    let empty = found.peek().is_none();
    let nothing = empty.then_some(Err(InputError::NoFiles(root)));
    nothing.into_iter().chain(found)
}

/// A walk error as a skip (a dangling link, a loop) or an error (a folder
/// that cannot be read).
fn walk_error(root: &Path, e: walkdir::Error) -> Result<Walked, InputError> {
    let path = e.path().unwrap_or(root).to_path_buf();
    if e.loop_ancestor().is_some() {
        return Ok(Walked::Skipped { path, why: SkipReason::LinkLoop });
    }
    if is_symlink(&path) && std::fs::metadata(&path).is_err_and(|m| m.kind() == io::ErrorKind::NotFound) {
        return Ok(Walked::Skipped { path, why: SkipReason::DanglingLink });
    }
    let source = e.into_io_error().unwrap_or_else(|| io::Error::other("cannot walk this folder"));
    Err(InputError::Io { path, source })
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Whether a folder between `root` and the file is a symbolic link.
fn has_link_above(root: &Path, relative: &Path) -> bool {
    let mut at = root.to_path_buf();
    let mut parts = relative.components().peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            break;
        }
        at.push(part);
        if is_symlink(&at) {
            return true;
        }
    }
    false
}

/// What a run passed over, by reason, for the summary line.
#[derive(Debug, Default, Clone)]
pub struct Skips {
    counts: std::collections::BTreeMap<SkipReason, usize>,
}

impl Skips {
    pub fn add(&mut self, why: SkipReason) {
        *self.counts.entry(why).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Skips) {
        for (why, n) in &other.counts {
            *self.counts.entry(*why).or_default() += n;
        }
    }

    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }

    /// `2 not a media file, 1 dangling symlink`, or `None` when nothing was skipped.
    pub fn describe(&self) -> Option<String> {
        (self.total() > 0)
            .then(|| self.counts.iter().map(|(why, n)| format!("{n} {}", why.as_str())).collect::<Vec<_>>().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn names(walked: Vec<Result<Walked, InputError>>) -> Vec<String> {
        walked
            .into_iter()
            .map(|w| match w {
                Ok(Walked::File(f)) => format!("{}{}", f.relative.display(), if f.link { " (link)" } else { "" }),
                Ok(Walked::Skipped { path, why }) => {
                    format!("skip {} ({})", path.file_name().unwrap().to_string_lossy(), why.as_str())
                }
                Err(e) => format!("error {e}"),
            })
            .collect()
    }

    #[test]
    fn hidden_files_links_and_specials_are_taken_or_counted_never_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("card");
        fs::create_dir_all(root.join(".cache")).unwrap();
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("good.jpg"), "x").unwrap();
        fs::write(root.join("DSC_0001.JPG"), "x").unwrap();
        fs::write(root.join(".hidden.jpg"), "x").unwrap();
        fs::write(root.join(".cache/x.jpg"), "x").unwrap();
        fs::write(root.join("good.jpg.ots"), "x").unwrap();
        fs::write(root.join("good.jpg.ots.1"), "x").unwrap();
        fs::write(root.join("good.jpg.anchor.json.2"), "x").unwrap();
        // Only a receipt's own name ends in `.ots`: this is a photo.
        fs::write(root.join("interview.ots.jpg"), "x").unwrap();
        fs::write(root.join(".vouch-abc.part"), "x").unwrap();
        std::os::unix::fs::symlink(root.join("good.jpg"), root.join("link.jpg")).unwrap();
        std::os::unix::fs::symlink(root.join("gone.jpg"), root.join("dangling.jpg")).unwrap();
        std::os::unix::fs::symlink(&root, root.join("sub/loop")).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(root.join("pipe")).status().unwrap().success());
        let got = names(walk(vec![root.clone()]).collect());
        assert_eq!(
            got,
            [
                ".cache/x.jpg",
                ".hidden.jpg",
                "DSC_0001.JPG",
                "skip dangling.jpg (dangling symlink)",
                "good.jpg",
                "interview.ots.jpg",
                "link.jpg (link)",
                "skip pipe (not a regular file)",
                "skip loop (symlink loop)",
            ]
        );
    }

    #[test]
    fn a_linked_folder_is_walked_and_its_files_say_so() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("real")).unwrap();
        fs::create_dir_all(dir.path().join("card")).unwrap();
        fs::write(dir.path().join("real/a.jpg"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("card/shoot")).unwrap();
        fs::write(dir.path().join("card/b.jpg"), "x").unwrap();
        assert_eq!(names(walk(vec![dir.path().join("card")]).collect()), ["b.jpg", "shoot/a.jpg (link)"]);
    }

    #[test]
    fn a_named_file_is_taken_as_named_and_a_named_path_that_is_no_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("card")).unwrap();
        let photo = dir.path().join("card/photo.jpg");
        fs::write(&photo, "x").unwrap();
        std::os::unix::fs::symlink(&photo, dir.path().join("shortcut.jpg")).unwrap();
        std::os::unix::fs::symlink("self.jpg", dir.path().join("self.jpg")).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(dir.path().join("pipe")).status().unwrap().success());
        let named = ["card/photo.jpg", "shortcut.jpg", "pipe", "self.jpg", "card/photo.jpg/x"];
        let walked: Vec<_> = walk(named.iter().map(|n| dir.path().join(n)).collect()).collect();
        let Some(Ok(Walked::File(first))) = walked.first() else { panic!("{:?}", walked.first()) };
        assert!(first.named && first.path == photo, "{first:?}");
        let shown = |n: &str| dir.path().join(n).display().to_string();
        assert_eq!(
            names(walked),
            [
                "photo.jpg".to_string(),
                "shortcut.jpg (link)".to_string(),
                // A FIFO named on the command line would block a reader: refused, never read.
                format!("error {}: not a regular file", shown("pipe")),
                // What exists but cannot be reached is said as it is, not "no such file".
                format!("error {}: Too many levels of symbolic links (os error 40)", shown("self.jpg")),
                format!("error {}: Not a directory (os error 20)", shown("card/photo.jpg/x")),
            ]
        );
    }

    #[test]
    fn a_link_to_itself_inside_a_folder_is_an_error_not_a_dangling_link() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.jpg"), "x").unwrap();
        std::os::unix::fs::symlink("self.jpg", dir.path().join("self.jpg")).unwrap();
        let got = names(walk(vec![dir.path().to_path_buf()]).collect());
        let link = dir.path().join("self.jpg").display().to_string();
        assert_eq!(
            got,
            ["a.jpg".to_string(), format!("error {link}: Too many levels of symbolic links (os error 40)")]
        );
    }

    #[test]
    fn named_paths_missing_special_or_empty_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("empty")).unwrap();
        let got = names(walk(vec![dir.path().join("nope.jpg"), dir.path().join("empty")]).collect());
        assert!(got[0].starts_with("error") && got[0].contains("nope.jpg: no such file"), "{got:?}");
        assert!(got[1].contains("empty: no files in this folder"), "{got:?}");
        let mut skips = Skips::default();
        skips.add(SkipReason::NotMedia);
        skips.add(SkipReason::NotMedia);
        skips.add(SkipReason::DanglingLink);
        assert_eq!(skips.describe().unwrap(), "1 dangling symlink, 2 not a media file");
        assert_eq!(Skips::default().describe(), None);
    }
}
