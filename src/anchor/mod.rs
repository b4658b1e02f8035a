//! Anchoring to public chains: proofs that exact bytes existed before a block.
//!
//! Work in progress: the OpenTimestamps proof format comes first.

pub mod digest;
pub mod merkle;
pub mod ots;
