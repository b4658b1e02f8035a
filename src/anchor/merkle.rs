//! The Merkle tree that lets one on-chain root cover a whole batch of files.
//!
//! Leaf: `sha256(file_sha256 ‖ nonce)`, a fresh 16-byte nonce per file so a
//! published root (or a sibling hash in someone else's receipt) reveals
//! nothing about a file. Node: `sha256(left ‖ right)`. A lone last node is
//! carried up unchanged rather than paired with itself, so no two different
//! batches share a root by duplication (the CVE-2012-2459 trap).
//!
//! Leaves hash 48 bytes and nodes 64, so a node can never pass for a leaf.
//! Every step is expressible as OpenTimestamps ops (append/prepend, sha256),
//! which is how the same path is written into `.ots` proofs.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// The longest path vouch accepts: 2^64 leaves is beyond any real batch,
/// and a longer path in a receipt can only be an attack.
pub const MAX_DEPTH: usize = 64;

/// Which side the sibling sits on at one step of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Left,
    Right,
}

/// One step from a leaf towards the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub side: Side,
    #[serde(with = "hex_hash")]
    pub hash: Hash,
}

pub fn leaf(file_sha256: &Hash, nonce: &[u8; 16]) -> Hash {
    Sha256::new().chain_update(file_sha256).chain_update(nonce).finalize().into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    Sha256::new().chain_update(left).chain_update(right).finalize().into()
}

/// A complete tree over one batch.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// Builds the tree. An empty batch has no root; callers refuse it earlier.
    pub fn new(leaves: Vec<Hash>) -> Option<Self> {
        if leaves.is_empty() {
            return None;
        }
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().map(Vec::as_slice).unwrap_or_default();
            let above = below.chunks(2).map(|pair| if let [l, r] = pair { node(l, r) } else { pair[0] }).collect();
            levels.push(above);
        }
        Some(Self { levels })
    }

    pub fn root(&self) -> Hash {
        self.levels.last().and_then(|l| l.first()).copied().unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The path from leaf `index` to the root.
    pub fn proof(&self, mut index: usize) -> Vec<Step> {
        let mut path = Vec::new();
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = index ^ 1;
            if let Some(hash) = level.get(sibling) {
                let side = if sibling < index { Side::Left } else { Side::Right };
                path.push(Step { side, hash: *hash });
            }
            index /= 2;
        }
        path
    }
}

/// Walks a path from a leaf; `None` when the path is longer than any real tree.
pub fn root_from_path(leaf: Hash, path: &[Step]) -> Option<Hash> {
    if path.len() > MAX_DEPTH {
        return None;
    }
    Some(path.iter().fold(leaf, |acc, step| match step.side {
        Side::Left => node(&step.hash, &acc),
        Side::Right => node(&acc, &step.hash),
    }))
}

mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(hash: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(serde::de::Error::custom)?;
        bytes.try_into().map_err(|_| serde::de::Error::custom("expected 32 bytes of hex"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf(&Sha256::digest(i.to_le_bytes()).into(), &[i as u8; 16])).collect()
    }

    #[test]
    fn every_leaf_proves_the_root_for_every_batch_size() {
        for n in 1..=33 {
            let tree = MerkleTree::new(leaves(n)).unwrap();
            for (i, leaf) in leaves(n).into_iter().enumerate() {
                assert_eq!(root_from_path(leaf, &tree.proof(i)), Some(tree.root()), "n={n} i={i}");
            }
        }
    }

    #[test]
    fn a_proof_for_one_file_does_not_prove_another() {
        let tree = MerkleTree::new(leaves(8)).unwrap();
        let other = leaves(9)[8];
        assert_ne!(root_from_path(other, &tree.proof(3)), Some(tree.root()));
    }

    #[test]
    fn proofs_grow_logarithmically() {
        let tree = MerkleTree::new(leaves(1000)).unwrap();
        assert!(tree.proof(0).len() <= 10);
        assert!(MerkleTree::new(leaves(1)).unwrap().proof(0).is_empty());
    }

    #[test]
    fn duplicating_the_last_leaf_changes_the_root() {
        let three = MerkleTree::new(leaves(3)).unwrap().root();
        let mut four = leaves(3);
        four.push(four[2]);
        assert_ne!(MerkleTree::new(four).unwrap().root(), three);
    }

    #[test]
    fn over_long_paths_are_refused() {
        let step = Step { side: Side::Left, hash: [0; 32] };
        assert_eq!(root_from_path([0; 32], &vec![step; MAX_DEPTH + 1]), None);
    }

    #[test]
    fn steps_serialise_as_hex() {
        let step = Step { side: Side::Right, hash: [0xab; 32] };
        let json = serde_json::to_string(&step).unwrap();
        assert_eq!(json, format!("{{\"side\":\"right\",\"hash\":\"{}\"}}", "ab".repeat(32)));
        assert_eq!(serde_json::from_str::<Step>(&json).unwrap(), step);
    }
}
