//! What a file says about its own origin, read without any model.
//!
//! A detector guesses; a file that declares it was made by a generator says
//! so outright. Four places are read:
//!
//! - **C2PA**: AI or synthetic digital source types anywhere in the
//!   provenance (`declared_sources`), and claim generators of known AI tools;
//! - **XMP**: `Iptc4xmpExt:DigitalSourceType` (trainedAlgorithmicMedia,
//!   compositeSynthetic, …) and `xmp:CreatorTool` / `tiff:Software`, in any
//!   container (XMP is plain text wherever it is stored);
//! - **PNG text chunks** (`tEXt`, `zTXt`, `iTXt`): Stable Diffusion front
//!   ends (`parameters`), ComfyUI (`prompt`, `workflow`), InvokeAI, Fooocus,
//!   NovelAI (`Software`, `Source`);
//! - **EXIF**: `Software`, `Artist`, `ImageDescription` naming a known
//!   generator, and a `UserComment` holding Stable Diffusion parameters.
//!
//! Only declarations of AI or synthetic origin are returned: a camera's
//! metadata yields nothing. Their absence proves nothing either: metadata is
//! stripped by most uploads and by anyone who wants it gone.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::provenance::{source_type, C2paReport};

/// One declaration of AI or synthetic origin found in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declared {
    /// Where it was found: `c2pa`, `xmp`, `png` or `exif`.
    pub source: String,
    /// The field, e.g. `Iptc4xmpExt:DigitalSourceType` or `parameters`.
    pub field: String,
    /// What the field says (shortened to [`MAX_VALUE`] characters).
    pub value: String,
}

/// Longest value kept in a record (prompts and workflows can be huge).
pub const MAX_VALUE: usize = 200;
/// Files up to this size are read through; larger ones (videos) by their
/// first and last [`EDGE`] bytes, where containers keep their metadata.
const WHOLE: u64 = 64 << 20;
const EDGE: u64 = 16 << 20;
/// What a window of [`read_file`]'s XMP scan reads, beyond its own bytes:
/// a property's prefix before it, and its value after ([`xmp_value`]
/// looks 1 KiB past the name).
const WINDOW: u64 = 1 << 20;
const LOOK_BACK: u64 = 256;
const LOOK_AHEAD: u64 = 4 << 10;
/// Most text a compressed PNG chunk may inflate to.
const MAX_INFLATE: u64 = 4 << 20;

/// Names of generators, matched case-insensitively as whole words in
/// software and claim-generator fields.
const GENERATORS: &[&str] = &[
    "stable diffusion",
    "stablediffusion",
    "stability ai",
    "novelai",
    "midjourney",
    "dall-e",
    "dall·e",
    "dalle",
    "firefly",
    "comfyui",
    "invokeai",
    "fooocus",
    "automatic1111",
    "sd.next",
    "draw things",
    "diffusionbee",
    "leonardo.ai",
    "ideogram",
    "imagen",
    "bing image creator",
    "microsoft designer",
    "chatgpt",
    "openai",
    "gpt-4o",
    "sora",
    "runwayml",
    "runway gen",
    "kling",
    "pika",
    "dream machine",
    "playground ai",
    "nightcafe",
    "craiyon",
    "flux.1",
    "seedream",
    "veo",
];

/// The generator a software field names, if any.
pub fn generator_named(value: &str) -> Option<&'static str> {
    let lower = value.to_lowercase();
    GENERATORS.iter().copied().find(|name| {
        lower.match_indices(name).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + name.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    })
}

/// The declarations of AI origin in a file's metadata (not its C2PA).
///
/// Images up to [`WHOLE`] are read whole (their containers point across
/// the file); of anything else only XMP can be read, which is plain text,
/// so it is scanned [`WINDOW`] bytes at a time and a 60 MB video costs
/// 1 MiB of memory, not 60.
pub fn read_file(path: &Path) -> std::io::Result<Vec<Declared>> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut head = Vec::with_capacity(16);
    (&mut file).take(16).read_to_end(&mut head)?;
    file.seek(SeekFrom::Start(0))?;
    let image = is_image(&head);
    if image && len <= WHOLE {
        let mut bytes = Vec::with_capacity(len as usize);
        file.read_to_end(&mut bytes)?;
        return Ok(scan(&bytes));
    }
    let mut found = Vec::new();
    if len <= WHOLE {
        xmp_streamed(&mut file, 0..len, &mut found)?;
        return Ok(found);
    }
    if image {
        let mut head = Vec::with_capacity(EDGE as usize);
        (&mut file).take(EDGE).read_to_end(&mut head)?;
        found = scan(&head);
    } else {
        xmp_streamed(&mut file, 0..EDGE, &mut found)?;
    }
    xmp_streamed(&mut file, len - EDGE..len, &mut found)?;
    Ok(found)
}

/// [`read_file`] for a file whose bytes may already be in memory (all of
/// them, as read for its C2PA validation): an image small enough to be read
/// whole is scanned from them, anything else read as [`read_file`] does.
pub fn read(path: &Path, bytes: Option<&[u8]>) -> std::io::Result<Vec<Declared>> {
    match bytes {
        Some(bytes) if is_image(&bytes[..bytes.len().min(16)]) && bytes.len() as u64 <= WHOLE => Ok(scan(bytes)),
        _ => read_file(path),
    }
}

/// The XMP in `range` of `file`, read a window at a time. Each window
/// judges the properties that start in its own [`WINDOW`] bytes, and
/// carries [`LOOK_BACK`] bytes before them and [`LOOK_AHEAD`] after, so a
/// property's prefix and its value are whole wherever the windows cut.
fn xmp_streamed(file: &mut std::fs::File, range: Range<u64>, found: &mut Vec<Declared>) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let from = start.saturating_sub(LOOK_BACK).max(range.start);
        let to = (start + WINDOW + LOOK_AHEAD).min(range.end);
        bytes.clear();
        file.seek(SeekFrom::Start(from))?;
        (&mut *file).take(to - from).read_to_end(&mut bytes)?;
        let own = (start - from) as usize..((start + WINDOW).min(range.end) - from) as usize;
        for d in xmp_in(&bytes, own) {
            push(found, d);
        }
        start += WINDOW;
    }
    Ok(())
}

/// The declarations of AI origin in a C2PA report: synthetic source types
/// anywhere in the history, and a claim generator that is a known AI tool.
/// An invalid manifest counts too: a declaration of AI origin is a fact
/// about what someone said, and nobody forges one to look less authentic.
pub fn from_c2pa(c2pa: &C2paReport) -> Vec<Declared> {
    let mut found = Vec::new();
    for d in c2pa.declared_sources.iter().filter(|d| d.synthetic_words().is_some()) {
        let field = if d.action.is_empty() {
            "digitalSourceType".to_string()
        } else {
            format!("{} digitalSourceType", d.action)
        };
        push(&mut found, Declared { source: "c2pa".into(), field, value: d.source_type.clone() });
    }
    if let Some(generator) = c2pa.claim_generator.as_deref().filter(|g| generator_named(g).is_some()) {
        push(&mut found, Declared { source: "c2pa".into(), field: "claim_generator".into(), value: short(generator) });
    }
    found
}

/// Whether `bytes` start like one of the image formats [`scan`] parses.
fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || bytes.starts_with(b"\xff\xd8")
        || bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
        || (bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP")
}

/// Declarations in a file's bytes.
pub fn scan(bytes: &[u8]) -> Vec<Declared> {
    let mut found = Vec::new();
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(bytes, &mut found);
    } else if bytes.starts_with(b"\xff\xd8") {
        jpeg(bytes, &mut found);
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        for d in exif(bytes) {
            push(&mut found, d);
        }
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        webp(bytes, &mut found);
    }
    for d in xmp(bytes) {
        push(&mut found, d);
    }
    found
}

fn push(found: &mut Vec<Declared>, d: Declared) {
    if !found.contains(&d) {
        found.push(d);
    }
}

fn short(value: &str) -> String {
    let value = value.trim();
    match value.char_indices().nth(MAX_VALUE) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_string(),
    }
}

fn declared(source: &str, field: &str, value: &str) -> Declared {
    Declared { source: source.into(), field: field.into(), value: short(value) }
}

/// PNG text chunks, an `eXIf` chunk, and XMP in `iTXt`.
fn png(bytes: &[u8], found: &mut Vec<Declared>) {
    let mut at = 8;
    while at + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let kind = &bytes[at + 4..at + 8];
        let Some(data) = bytes.get(at + 8..(at + 8).saturating_add(len)) else { break };
        match kind {
            b"tEXt" => {
                if let Some((key, text)) = split_nul(data) {
                    png_text(&latin1(key), &latin1(text), found);
                }
            }
            b"zTXt" => {
                if let Some((key, rest)) = split_nul(data) {
                    if let Some(text) = rest.get(1..).and_then(inflate) {
                        png_text(&latin1(key), &latin1(&text), found);
                    }
                }
            }
            b"iTXt" => {
                if let Some((key, rest)) = split_nul(data) {
                    let (compressed, rest) = (rest.first() == Some(&1), rest.get(2..).unwrap_or_default());
                    let text = split_nul(rest).and_then(|(_, r)| split_nul(r)).map(|(_, text)| text);
                    let text = match (text, compressed) {
                        (Some(t), false) => Some(t.to_vec()),
                        (Some(t), true) => inflate(t),
                        (None, _) => None,
                    };
                    if let Some(text) = text {
                        let key = latin1(key);
                        if key == "XML:com.adobe.xmp" {
                            for d in xmp(&text) {
                                push(found, d);
                            }
                        } else {
                            png_text(&key, &String::from_utf8_lossy(&text), found);
                        }
                    }
                }
            }
            b"eXIf" => {
                for d in exif(data) {
                    push(found, d);
                }
            }
            b"IEND" => break,
            _ => {}
        }
        at += 12 + len;
    }
}

/// Judges one PNG text chunk.
fn png_text(key: &str, text: &str, found: &mut Vec<Declared>) {
    let trimmed = text.trim_start();
    let ai = match key {
        // AUTOMATIC1111, Forge, SD.Next: "prompt\nNegative prompt: …\nSteps: 20, Sampler: …"
        "parameters" => is_sd_parameters(text) || (trimmed.starts_with('{') && text.contains("\"prompt\"")),
        // ComfyUI: the graph as JSON.
        "prompt" | "workflow" => trimmed.starts_with('{'),
        "invokeai_metadata" | "invokeai_graph" | "sd-metadata" | "Dream" | "fooocus_scheme" => !trimmed.is_empty(),
        "Software" | "Source" | "Author" | "Description" | "Title" | "Comment" => generator_named(text).is_some(),
        _ => false,
    };
    if ai {
        push(found, declared("png", key, text));
    }
}

/// Stable Diffusion web UI parameters: the settings line they all write.
fn is_sd_parameters(text: &str) -> bool {
    text.contains("Steps: ") && (text.contains("Sampler: ") || text.contains("CFG scale: ") || text.contains("Seed: "))
}

fn split_nul(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = data.iter().position(|b| *b == 0)?;
    Some((&data[..at], &data[at + 1..]))
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

fn inflate(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(data).take(MAX_INFLATE).read_to_end(&mut out).ok()?;
    Some(out)
}

/// JPEG: EXIF in APP1 (XMP is found by the raw scan).
fn jpeg(bytes: &[u8], found: &mut Vec<Declared>) {
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xff {
        let marker = bytes[at + 1];
        if marker == 0xda || marker == 0xd9 {
            break;
        }
        if (0xd0..=0xd7).contains(&marker) || marker == 0x01 || marker == 0xff {
            at += if marker == 0xff { 1 } else { 2 };
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let Some(data) = bytes.get(at + 4..at + 2 + len.max(2)) else { break };
        if marker == 0xe1 && data.starts_with(b"Exif\0\0") {
            for d in exif(&data[6..]) {
                push(found, d);
            }
        }
        at += 2 + len;
    }
}

/// WebP: the `EXIF` chunk.
fn webp(bytes: &[u8], found: &mut Vec<Declared>) {
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
        let Some(data) = bytes.get(at + 8..(at + 8).saturating_add(len)) else { break };
        if &bytes[at..at + 4] == b"EXIF" {
            let data = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
            for d in exif(data) {
                push(found, d);
            }
        }
        at += 8 + len + (len & 1);
    }
}

/// EXIF (a TIFF structure): IFD0's `Software`, `Artist`, `ImageDescription`
/// and the EXIF IFD's `UserComment`.
fn exif(tiff: &[u8]) -> Vec<Declared> {
    let mut found = Vec::new();
    let little = match tiff.get(..2) {
        Some(b"II") => true,
        Some(b"MM") => false,
        _ => return found,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if little { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    };
    // (tag, value bytes) of one IFD's BYTE, ASCII and UNDEFINED entries (writers
    // differ on UserComment's type), and the
    // EXIF IFD's offset.
    let entries = |ifd: usize| -> (Vec<(u16, &[u8])>, Option<usize>) {
        let mut out = Vec::new();
        let mut exif_ifd = None;
        let Some(count) = u16_at(ifd) else { return (out, None) };
        for n in 0..usize::from(count).min(512) {
            let entry = ifd + 2 + n * 12;
            let (Some(tag), Some(kind), Some(len)) = (u16_at(entry), u16_at(entry + 2), u32_at(entry + 4)) else {
                break;
            };
            if tag == 0x8769 {
                exif_ifd = u32_at(entry + 8).map(|o| o as usize);
                continue;
            }
            if !matches!(kind, 1 | 2 | 7) {
                continue;
            }
            let len = len as usize;
            let start = if len <= 4 { Some(entry + 8) } else { u32_at(entry + 8).map(|o| o as usize) };
            if let Some(value) = start.and_then(|s| tiff.get(s..s.saturating_add(len))) {
                out.push((tag, value));
            }
        }
        (out, exif_ifd)
    };
    let Some(ifd0) = u32_at(4) else { return found };
    let (mut all, exif_ifd) = entries(ifd0 as usize);
    if let Some(offset) = exif_ifd.filter(|o| *o != ifd0 as usize) {
        all.extend(entries(offset).0);
    }
    for (tag, value) in all {
        let (field, text) = match tag {
            0x0131 => ("Software", ascii(value)),
            0x013b => ("Artist", ascii(value)),
            0x010e => ("ImageDescription", ascii(value)),
            0x9286 => ("UserComment", user_comment(value, little)),
            _ => continue,
        };
        let ai = generator_named(&text).is_some() || (field != "Software" && is_sd_parameters(&text));
        if ai {
            push(&mut found, declared("exif", field, &text));
        }
    }
    found
}

fn ascii(value: &[u8]) -> String {
    String::from_utf8_lossy(value).trim_end_matches('\0').to_string()
}

/// EXIF UserComment: an 8-byte character code, then the text.
fn user_comment(value: &[u8], little: bool) -> String {
    let (code, text) = value.split_at(value.len().min(8));
    if code.starts_with(b"UNICODE") {
        let units: Vec<u16> = text
            .chunks_exact(2)
            .map(|c| if little { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) })
            .collect();
        let decoded = String::from_utf16_lossy(&units);
        // piexif writes UTF-16 big-endian whatever the TIFF's byte order.
        if little && !decoded.is_ascii() {
            let units: Vec<u16> = text.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            return String::from_utf16_lossy(&units).trim_end_matches('\0').to_string();
        }
        return decoded.trim_end_matches('\0').to_string();
    }
    ascii(text)
}

/// XMP properties wherever they sit in the bytes: the digital source type,
/// and the creator tool or software when it names a generator.
fn xmp(bytes: &[u8]) -> Vec<Declared> {
    xmp_in(bytes, 0..bytes.len())
}

/// The XMP properties read, and whether each is the digital source type
/// (else a creator tool or software, which counts when it names a generator).
const XMP_PROPERTIES: [(&[u8], bool); 3] =
    [(b":DigitalSourceType", true), (b":CreatorTool", false), (b":Software", false)];

/// [`xmp`], for the properties that start within `own`.
fn xmp_in(bytes: &[u8], own: Range<usize>) -> Vec<Declared> {
    // One pass over the bytes finds every property (a file is mostly image
    // data, and three passes cost more than reading it). No property's name
    // can start inside another's (each begins with the only `:` in it), so
    // a match hides none, and each property's hits are then read in the
    // order of the list, as one pass per property would.
    static FINDER: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    let finder = FINDER.get_or_init(|| {
        aho_corasick::AhoCorasick::new(XMP_PROPERTIES.iter().map(|(p, _)| p)).expect("three short literal patterns")
    });
    let mut hits: [Vec<usize>; 3] = Default::default();
    for hit in finder.find_iter(&bytes[own.start..]) {
        let at = own.start + hit.start();
        if at >= own.end {
            break;
        }
        hits[hit.pattern().as_usize()].push(at);
    }
    let mut found = Vec::new();
    for ((property, is_type), hits) in XMP_PROPERTIES.into_iter().zip(hits) {
        for at in hits {
            let from = at + property.len();
            let name_start =
                bytes[..at].iter().rposition(|b| !b.is_ascii_alphanumeric() && *b != b'_').map_or(0, |p| p + 1);
            if name_start == at || (name_start > 0 && bytes[name_start - 1] == b'/') {
                continue; // no prefix, or a closing tag
            }
            if bytes.get(from).is_some_and(|b| b.is_ascii_alphanumeric()) {
                continue; // a longer name
            }
            let Some(value) = xmp_value(&bytes[from..]) else { continue };
            let field = String::from_utf8_lossy(&bytes[name_start..from]).into_owned();
            let ai = if is_type {
                source_type::synthetic_words(&value).is_some()
            } else {
                generator_named(&value).is_some()
            };
            if ai {
                push(&mut found, declared("xmp", &field, &value));
            }
        }
    }
    found
}

/// The value after a property name: `="v"`, `>v<`, ` rdf:resource="v"`, or
/// `><rdf:Alt><rdf:li …>v<` (CreatorTool is sometimes a language list).
fn xmp_value(after: &[u8]) -> Option<String> {
    let window = &after[..after.len().min(1024)];
    let text = String::from_utf8_lossy(window);
    let rest = text.trim_start();
    if let Some(rest) = rest.strip_prefix('=') {
        return quoted(rest.trim_start());
    }
    if let Some(rest) = rest.strip_prefix('>') {
        let value = rest.split('<').next().unwrap_or_default().trim();
        if !value.is_empty() {
            return Some(unescape(value));
        }
        // Nested: the first text node before the property closes.
        let inner = rest.split("</").next().unwrap_or_default();
        return inner
            .split('>')
            .map(|s| s.split('<').next().unwrap_or_default().trim())
            .find(|s| !s.is_empty())
            .map(unescape);
    }
    let tag = rest.split('>').next().unwrap_or_default();
    let at = tag.find("rdf:resource")?;
    quoted(tag[at + "rdf:resource".len()..].trim_start().strip_prefix('=')?.trim_start())
}

fn quoted(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = text[1..].split(quote).next()?;
    Some(unescape(value.trim()))
}

fn unescape(value: &str) -> String {
    value.replace("&quot;", "\"").replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_whole_words() {
        assert_eq!(generator_named("NovelAI"), Some("novelai"));
        assert_eq!(generator_named("Adobe Firefly 3"), Some("firefly"));
        assert_eq!(generator_named("Google Imagen 3"), Some("imagen"));
        assert_eq!(generator_named("Imagenomic Portraiture 3"), None);
        assert_eq!(generator_named("Adobe Photoshop 25.0 (Macintosh)"), None);
        assert_eq!(generator_named("Ver.1.00"), None);
        assert_eq!(generator_named("Lightroom Classic 13.1"), None);
    }

    #[test]
    fn a_video_read_a_window_at_a_time_declares_what_one_read_would() {
        // XMP in a file that is not an image, cut by the windows in every
        // way: a prefix before a window's start, a name across it, a value
        // running into the next window, and one in the last bytes.
        let uri = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";
        let type_xml = format!("<rdf:Description Iptc4xmpExt:DigitalSourceType=\"{uri}\"/>");
        let tool_xml = "<xmp:CreatorTool>Sora</xmp:CreatorTool>".to_string();
        let soft_xml = "<tiff:Software>Runway Gen-3</tiff:Software>".to_string();
        let window = WINDOW as usize;
        let mut bytes = vec![0u8; 3 * window + 100];
        bytes[4..12].copy_from_slice(b"ftypisom");
        let mut place = |at: usize, xml: &str| bytes[at..at + xml.len()].copy_from_slice(xml.as_bytes());
        place(window - 30, &type_xml);
        place(2 * window - 14, &tool_xml);
        place(2 * window + 3, &soft_xml);
        place(3 * window + 100 - soft_xml.len(), &soft_xml.replace("Runway Gen-3", "Midjourney"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.mp4");
        std::fs::write(&path, &bytes).unwrap();
        let mut streamed = read_file(&path).unwrap();
        let mut whole = scan(&bytes);
        assert_eq!(whole.len(), 4, "{whole:?}");
        streamed.sort_by(|a, b| (&a.field, &a.value).cmp(&(&b.field, &b.value)));
        whole.sort_by(|a, b| (&a.field, &a.value).cmp(&(&b.field, &b.value)));
        assert_eq!(streamed, whole);
    }

    #[test]
    fn xmp_values_in_every_spelling() {
        let uri = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";
        for xml in [
            format!("<rdf:Description Iptc4xmpExt:DigitalSourceType=\"{uri}\"/>"),
            format!("<Iptc4xmpExt:DigitalSourceType>{uri}</Iptc4xmpExt:DigitalSourceType>"),
            format!("<Iptc4xmpExt:DigitalSourceType rdf:resource='{uri}'/>"),
        ] {
            let found = xmp(xml.as_bytes());
            assert_eq!(found.len(), 1, "{xml}: {found:?}");
            assert_eq!(found[0].field, "Iptc4xmpExt:DigitalSourceType");
            assert_eq!(found[0].value, uri);
        }
        let capture = "<Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture</Iptc4xmpExt:DigitalSourceType>";
        assert!(xmp(capture.as_bytes()).is_empty());
        let tool = "<xmp:CreatorTool><rdf:Alt><rdf:li xml:lang=\"x-default\">Midjourney v6</rdf:li></rdf:Alt></xmp:CreatorTool>";
        assert_eq!(xmp(tool.as_bytes())[0].value, "Midjourney v6");
        assert!(xmp(b"<xmp:CreatorTool>Adobe Photoshop 25.0</xmp:CreatorTool>").is_empty());
    }

    #[test]
    fn truncated_and_hostile_containers_do_not_panic() {
        for bytes in [
            &b"\x89PNG\r\n\x1a\n\xff\xff\xff\xfftEXt"[..],
            b"\xff\xd8\xff\xe1\xff\xffExif\0\0II*\0\xff\xff\xff\xff",
            b"II*\0\x08\0\0\0\xff\xff",
            b"MM\0*\0\0\0\x08\0\x01\x01\x31\0\x02\xff\xff\xff\xff\xff\xff\xff\xff",
            b"RIFF\0\0\0\0WEBPEXIF\xff\xff\xff\xff",
            b"x:DigitalSourceType",
            b"x:DigitalSourceType=\"",
        ] {
            let _ = scan(bytes);
        }
    }
}
