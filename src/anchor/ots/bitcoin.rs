//! Bitcoin block headers, the evidence a Bitcoin attestation is checked against.
//!
//! Headers come from a local file rather than a node: verification stays
//! offline, and the file is the trust input (nothing here checks proof of work
//! or that the headers form a chain).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::OtsError;

pub const HEADER_LEN: usize = 80;

/// A block header exactly as serialized on the wire.
pub type BlockHeader = [u8; HEADER_LEN];

/// Reads a headers file: one `height header-hex` per line, blank lines and
/// `#` comments ignored. Errors name the line.
pub fn parse_headers_file(text: &str) -> Result<BTreeMap<u64, BlockHeader>, OtsError> {
    let mut headers = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let err = |reason: String| OtsError::HeadersLine { line, reason };
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let fields: Vec<&str> = content.split_whitespace().collect();
        let [height, header_hex] = fields[..] else {
            return Err(err(format!("expected `height header-hex`, found {} field(s)", fields.len())));
        };
        let height: u64 = height.parse().map_err(|_| err(format!("height `{height}` is not a number")))?;
        let bytes = hex::decode(header_hex).map_err(|e| err(format!("header is not hex: {e}")))?;
        let header: BlockHeader = bytes
            .try_into()
            .map_err(|b: Vec<u8>| err(format!("header is {} bytes, a block header is {HEADER_LEN}", b.len())))?;
        if let Some(previous) = headers.insert(height, header) {
            if previous != header {
                return Err(err(format!("a different header for height {height} appears earlier")));
            }
        }
    }
    Ok(headers)
}

/// Double SHA-256 of the header, in internal byte order.
pub fn block_hash(header: &BlockHeader) -> [u8; 32] {
    Sha256::digest(Sha256::digest(header)).into()
}

/// The block hash as explorers and nodes display it: byte-reversed hex.
pub fn block_hash_hex(header: &BlockHeader) -> String {
    let mut hash = block_hash(header);
    hash.reverse();
    hex::encode(hash)
}

/// The merkle root, in the byte order of the header (which is the order an
/// attestation's commitment message has, not the reversed display order).
pub fn merkle_root(header: &BlockHeader) -> [u8; 32] {
    header[36..68].try_into().expect("32-byte range")
}

/// The block's timestamp, seconds since the Unix epoch.
pub fn block_time(header: &BlockHeader) -> u32 {
    u32::from_le_bytes(header[68..72].try_into().expect("4-byte range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H358391: &str = "02000000b96394585a281b7e5f438fd1c9ed492645a1fd61cb3802040000000000000000007ee445d23ad061af4a36b809501fab1ac4f2d7e7a739817dd0cbb7ec661b8a1e376755f58616186272def6";

    #[test]
    fn parses_lines_and_comments() {
        let text = format!("# comment\n\n358391 {H358391}  # trailing comment\n358391 {H358391}\n");
        let headers = parse_headers_file(&text).unwrap();
        assert_eq!(headers.len(), 1);
        let header = &headers[&358391];
        assert_eq!(block_time(header), 1432827678);
        assert!(block_hash_hex(header).starts_with("0000000000000000"), "{}", block_hash_hex(header));
        assert_eq!(hex::encode(merkle_root(header)), &H358391[72..136]);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (format!("# c\n358391 {}\n", &H358391[..158]), "line 2: header is 79 bytes"),
            (format!("\nabc {H358391}\n"), "line 2: height `abc` is not a number"),
            ("1 zz\n".to_string(), "line 1: header is not hex"),
            (format!("1 {H358391} extra\n"), "line 1: expected `height header-hex`, found 3 field(s)"),
            (format!("1 {H358391}\n1 {}00\n", &H358391[..158]), "line 2: a different header for height 1"),
        ];
        for (text, expected) in cases {
            let err = parse_headers_file(&text).unwrap_err().to_string();
            assert!(err.contains(expected), "{err:?} should contain {expected:?}");
        }
    }
}
