//! File digests: SHA-256 streamed in fixed-size chunks (memory stays flat on
//! a two-hour video), and the IPFS CID that names the same bytes.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::merkle::Hash;

const CHUNK: usize = 1 << 20;

thread_local! {
    /// One read buffer per thread, reused for every file it hashes: a batch
    /// of ten thousand files would otherwise allocate (and zero) ten
    /// thousand megabytes.
    static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; CHUNK]);
}

/// SHA-256 of a file's contents.
pub fn sha256_file(path: &Path) -> io::Result<Hash> {
    let mut file = File::open(path)?;
    BUFFER.with(|buf| match buf.try_borrow_mut() {
        Ok(mut buf) => sha256_stream(&mut file, &mut buf),
        // Re-entered on this thread (never in practice): a buffer of its own.
        Err(_) => sha256_stream(&mut file, &mut vec![0u8; CHUNK]),
    })
}

fn sha256_stream(file: &mut File, buf: &mut [u8]) -> io::Result<Hash> {
    let mut hasher = Sha256::new();
    loop {
        match file.read(buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hasher.finalize().into())
}

/// The CIDv1 (raw codec, sha2-256) of content with this SHA-256, so archives
/// on IPFS or Filecoin can be matched to receipts.
pub fn ipfs_cid(sha256: &Hash) -> String {
    const RAW: u64 = 0x55;
    const SHA2_256: u64 = 0x12;
    cid::multihash::Multihash::<64>::wrap(SHA2_256, sha256)
        .map(|mh| cid::Cid::new_v1(RAW, mh).to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_the_same_digest_as_one_shot_hashing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let data: Vec<u8> = (0..(3 * CHUNK + 17)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let expected: Hash = Sha256::digest(&data).into();
        assert_eq!(sha256_file(&path).unwrap(), expected);
    }

    #[test]
    fn cid_matches_ipfs_for_hello_world() {
        // `ipfs add --cid-version 1 --raw-leaves` of "hello world" (no newline).
        let digest: Hash = Sha256::digest(b"hello world").into();
        assert_eq!(ipfs_cid(&digest), "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
    }
}
