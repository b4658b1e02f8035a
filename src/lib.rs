//! vouch: media provenance and deepfake detection.
//!
//! Each module is one capability with one entry point and its own error type.
//! Capabilities never print: they return plain data (`results::FileReport` and
//! its parts), and `report` renders that data for people or machines.

pub mod anchor;
pub mod check;
pub mod config;
pub mod detect;
pub mod doctor;
pub mod fsx;
pub mod home;
pub mod identity;
pub mod media;
pub mod progress;
pub mod provenance;
pub mod redact;
pub mod report;
pub mod results;
pub mod rubric;
pub mod thumbnail;
pub mod trust;
pub mod verify;
pub mod walk;
pub mod watch;

/// The claim generator name written into every manifest vouch signs.
pub const CLAIM_GENERATOR: &str = concat!("vouch/", env!("CARGO_PKG_VERSION"));
