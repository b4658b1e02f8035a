//! Turning the paths a user names into media files vouch can work on.
//!
//! Directories are walked; a file is media when its extension names a format
//! that C2PA supports. Its leading bytes must also agree with that extension,
//! so a text file named `.jpg` is refused up front with a clear message
//! instead of failing deep inside a parser.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// A media format vouch can sign and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
    Tiff,
    Avif,
    Heic,
    Heif,
    Mp4,
    Mov,
    M4a,
    Wav,
    Avi,
    Mp3,
    Svg,
    Pdf,
}

impl Format {
    /// Recognises a format by file extension (case-insensitive).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "jpg" | "jpeg" | "jpe" | "jfif" => Self::Jpeg,
            "png" => Self::Png,
            "webp" => Self::Webp,
            "gif" => Self::Gif,
            "tif" | "tiff" | "dng" => Self::Tiff,
            "avif" => Self::Avif,
            "heic" => Self::Heic,
            "heif" => Self::Heif,
            "mp4" | "m4v" => Self::Mp4,
            "mov" => Self::Mov,
            "m4a" => Self::M4a,
            "wav" => Self::Wav,
            "avi" => Self::Avi,
            "mp3" => Self::Mp3,
            "svg" => Self::Svg,
            "pdf" => Self::Pdf,
            _ => return None,
        })
    }

    /// The MIME type c2pa expects for this format.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
            Self::Tiff => "image/tiff",
            Self::Avif => "image/avif",
            Self::Heic => "image/heic",
            Self::Heif => "image/heif",
            Self::Mp4 => "video/mp4",
            Self::Mov => "video/quicktime",
            Self::M4a => "audio/mp4",
            Self::Wav => "audio/wav",
            Self::Avi => "video/avi",
            Self::Mp3 => "audio/mpeg",
            Self::Svg => "image/svg+xml",
            Self::Pdf => "application/pdf",
        }
    }

    /// Whether `head` (the first bytes of a file) looks like this format.
    pub fn matches_magic(self, head: &[u8]) -> bool {
        let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
        match self {
            Self::Jpeg => at(0, &[0xFF, 0xD8, 0xFF]),
            Self::Png => at(0, b"\x89PNG\r\n\x1a\n"),
            Self::Webp => at(0, b"RIFF") && at(8, b"WEBP"),
            Self::Wav => at(0, b"RIFF") && at(8, b"WAVE"),
            Self::Avi => at(0, b"RIFF") && at(8, b"AVI "),
            Self::Gif => at(0, b"GIF8"),
            Self::Tiff => at(0, b"II*\0") || at(0, b"MM\0*"),
            Self::Avif | Self::Heic | Self::Heif | Self::Mp4 | Self::Mov | Self::M4a => {
                [&b"ftyp"[..], b"moov", b"mdat", b"wide", b"free", b"skip"].iter().any(|m| at(4, m))
            }
            Self::Mp3 => at(0, b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0),
            Self::Svg => head.contains(&b'<'),
            Self::Pdf => at(0, b"%PDF-"),
        }
    }
}

/// Why an input could not become a list of media files.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{}: no such file or directory", .0.display())]
    Missing(PathBuf),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: unsupported format (supported: {})", .0.display(), SUPPORTED_EXTENSIONS)]
    Unsupported(PathBuf),
    #[error("{}: not a {} file (its contents do not match its extension)", path.display(), format.mime())]
    WrongContents { path: PathBuf, format: Format },
    #[error("{}: truncated or damaged {} file ({detail})", path.display(), format.mime())]
    Truncated { path: PathBuf, format: Format, detail: &'static str },
    #[error("{}: empty file", .0.display())]
    Empty(PathBuf),
    #[error("{}: no supported media files in this folder{}", .0.display(), .1.as_deref().map(|s| format!(" ({s})")).unwrap_or_default())]
    EmptyFolder(PathBuf, Option<String>),
    #[error("{}: no files in this folder", .0.display())]
    NoFiles(PathBuf),
    #[error("{}: not a regular file", .0.display())]
    NotRegular(PathBuf),
}

impl InputError {
    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Missing(p)
            | Self::Unsupported(p)
            | Self::Empty(p)
            | Self::EmptyFolder(p, _)
            | Self::NoFiles(p)
            | Self::NotRegular(p) => p,
            Self::Io { path, .. } | Self::WrongContents { path, .. } | Self::Truncated { path, .. } => path,
        }
    }
}

/// Extensions accepted, for error messages and help.
pub const SUPPORTED_EXTENSIONS: &str =
    "jpg, png, webp, gif, tif, dng, avif, heic, heif, mp4, m4v, mov, m4a, wav, avi, mp3, svg, pdf";

/// A file that was recognised as media.
#[derive(Debug, Clone)]
pub struct MediaFile {
    pub path: PathBuf,
    pub format: Format,
    /// Where the file sits relative to what the user named: its file name
    /// for a named file, its path below the folder for a walked one. Outputs
    /// written to another folder keep this layout.
    pub relative: PathBuf,
    /// Reached through a symbolic link.
    pub link: bool,
}

/// Checks one file: it exists, its extension is supported and its leading
/// bytes agree with the extension.
pub fn probe(path: &Path) -> Result<MediaFile, InputError> {
    let format = Format::from_path(path).ok_or_else(|| InputError::Unsupported(path.to_path_buf()))?;
    let mut file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => InputError::Missing(path.to_path_buf()),
        _ => InputError::Io { path: path.to_path_buf(), source: e },
    })?;
    let mut head = [0u8; 16];
    let mut len = 0;
    while len < head.len() {
        match file.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(InputError::Io { path: path.to_path_buf(), source: e }),
        }
    }
    if len == 0 {
        return Err(InputError::Empty(path.to_path_buf()));
    }
    if !format.matches_magic(&head[..len]) {
        return Err(InputError::WrongContents { path: path.to_path_buf(), format });
    }
    let relative = PathBuf::from(path.file_name().unwrap_or(path.as_os_str()));
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    Ok(MediaFile { path: path.to_path_buf(), format, relative, link })
}

/// Checks that a file is whole: the container's own structure must account
/// for every byte up to the end. Cheap (a few header reads), and it stops a
/// truncated upload from being signed as if it were the real thing.
///
/// Formats without a cheap end-of-file marker pass unchecked.
pub fn check_complete(file: &MediaFile) -> Result<(), InputError> {
    use std::io::{Seek, SeekFrom};
    let io = |e: io::Error| InputError::Io { path: file.path.clone(), source: e };
    let truncated = |detail| InputError::Truncated { path: file.path.clone(), format: file.format, detail };
    let mut f = File::open(&file.path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let mut read_at = |offset: u64, buf: &mut [u8]| -> Result<bool, InputError> {
        if offset + buf.len() as u64 > len {
            return Ok(false);
        }
        f.seek(SeekFrom::Start(offset)).map_err(io)?;
        f.read_exact(buf).map_err(io)?;
        Ok(true)
    };
    match file.format {
        Format::Jpeg => {
            // The last marker must be EOI; some cameras pad after it.
            let tail_len = len.min(4096);
            let mut tail = vec![0u8; tail_len as usize];
            read_at(len - tail_len, &mut tail)?;
            let end = tail.iter().rposition(|&b| b != 0x00).map_or(0, |i| i + 1);
            if end < 2 || tail[end - 2..end] != [0xFF, 0xD9] {
                return Err(truncated("no end-of-image marker"));
            }
        }
        Format::Png => {
            let mut tail = [0u8; 12];
            if !read_at(len.saturating_sub(12), &mut tail)? || &tail[4..8] != b"IEND" {
                return Err(truncated("no IEND chunk at the end"));
            }
        }
        Format::Webp | Format::Wav | Format::Avi => {
            let mut header = [0u8; 8];
            read_at(0, &mut header)?;
            let declared = u64::from(u32::from_le_bytes([header[4], header[5], header[6], header[7]])) + 8;
            if declared > len {
                return Err(truncated("shorter than its RIFF header declares"));
            }
        }
        Format::Mp4 | Format::Mov | Format::M4a | Format::Avif | Format::Heic | Format::Heif => {
            let mut offset = 0u64;
            while offset < len {
                let mut header = [0u8; 16];
                if !read_at(offset, &mut header[..8])? {
                    return Err(truncated("a box header is cut off"));
                }
                let size = match u32::from_be_bytes([header[0], header[1], header[2], header[3]]) {
                    0 => len - offset, // box runs to the end of the file
                    1 => {
                        if !read_at(offset + 8, &mut header[8..16])? {
                            return Err(truncated("a box header is cut off"));
                        }
                        u64::from_be_bytes(header[8..16].try_into().unwrap_or_default())
                    }
                    n => u64::from(n),
                };
                if size < 8 {
                    return Err(truncated("a box declares an impossible size"));
                }
                offset = offset.saturating_add(size);
            }
            if offset > len {
                return Err(truncated("the last box runs past the end of the file"));
            }
        }
        _ => {}
    }
    Ok(())
}

/// One entry of the expanded input list: a media file, or the reason a
/// named path could not be used. Errors stay in the stream so one bad input
/// does not hide the results of the others.
pub type Input = Result<MediaFile, InputError>;

/// Expands the paths a user named into media files, in a stable order, by
/// the walking rules of [`crate::walk`].
///
/// Files named explicitly are probed and reported when unusable; inside
/// folders, files that are not media are counted in `skips` (with what the
/// walk itself skipped), never dropped without a word.
pub fn expand(paths: &[PathBuf], skips: &mut crate::walk::Skips) -> Vec<Input> {
    use crate::walk::{SkipReason, Walked};
    let mut inputs = Vec::new();
    for path in paths {
        let before = inputs.len();
        let mut here = crate::walk::Skips::default();
        for walked in crate::walk::walk(vec![path.clone()]) {
            match walked {
                Ok(Walked::File(found)) if found.named || Format::from_path(&found.path).is_some() => inputs
                    .push(probe(&found.path).map(|m| MediaFile { relative: found.relative, link: found.link, ..m })),
                Ok(Walked::File(_)) => here.add(SkipReason::NotMedia),
                Ok(Walked::Skipped { why, .. }) => here.add(why),
                Err(e) => inputs.push(Err(e)),
            }
        }
        // A folder that holds files but no media is an error of its own,
        // which says what it held instead.
        if inputs.len() == before {
            inputs.push(Err(InputError::EmptyFolder(path.clone(), here.describe())));
        } else {
            skips.merge(&here);
        }
    }
    inputs
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn text_named_jpg_is_refused_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("fake.jpg");
        fs::write(&fake, "hello, I am text").unwrap();
        let err = probe(&fake).unwrap_err();
        assert!(matches!(err, InputError::WrongContents { .. }), "{err}");
        assert!(err.to_string().contains("fake.jpg"));
    }

    #[test]
    fn folders_are_walked_in_order_and_count_non_media() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("b.png"), b"\x89PNG\r\n\x1a\n....").unwrap();
        fs::write(dir.path().join("a.jpg"), [0xFF, 0xD8, 0xFF, 0xE0]).unwrap();
        fs::write(dir.path().join("notes.txt"), "x").unwrap();
        fs::write(dir.path().join(".hidden.jpg"), [0xFF, 0xD8, 0xFF, 0xE0]).unwrap();
        let mut skips = crate::walk::Skips::default();
        let found: Vec<_> = expand(&[dir.path().to_path_buf()], &mut skips)
            .into_iter()
            .map(|i| i.unwrap().path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(found, [".hidden.jpg", "a.jpg", "b.png"]);
        assert_eq!(skips.describe().as_deref(), Some("1 not a media file"));
    }

    #[test]
    fn truncation_is_detected_for_jpeg_png_and_mp4() {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        for name in ["photo.jpg", "image.png", "clip.mp4", "tone.wav"] {
            let whole = fs::read(fixtures.join(name)).unwrap();
            let path = dir.path().join(name);
            fs::write(&path, &whole).unwrap();
            check_complete(&probe(&path).unwrap()).unwrap();
            fs::write(&path, &whole[..whole.len() * 2 / 3]).unwrap();
            let err = check_complete(&probe(&path).unwrap()).unwrap_err();
            assert!(matches!(err, InputError::Truncated { .. }), "{name}: {err}");
        }
    }

    #[test]
    fn missing_path_is_an_error_and_a_folder_without_media_says_why() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("readme.txt"), "x").unwrap();
        let mut skips = crate::walk::Skips::default();
        let got = expand(&[dir.path().to_path_buf(), dir.path().join("nope.jpg")], &mut skips);
        let err = got[0].as_ref().unwrap_err().to_string();
        assert!(err.ends_with("no supported media files in this folder (1 not a media file)"), "{err}");
        assert!(matches!(got[1], Err(InputError::Missing(_))));
        assert_eq!(skips.describe(), None, "said in the folder's error instead");
    }
}
