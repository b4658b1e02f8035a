//! Where vouch keeps its per-user state: the default identity and the trust store.

use std::path::PathBuf;

/// Environment variable that relocates all per-user state (used by tests and
/// by capture stations that keep identities on a dedicated volume).
pub const HOME_ENV: &str = "VOUCH_HOME";

/// The root of vouch's per-user state: `$VOUCH_HOME`, else `<config dir>/vouch`.
pub fn vouch_home() -> PathBuf {
    if let Some(dir) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::config_dir().unwrap_or_else(|| PathBuf::from(".")).join("vouch")
}

/// The directory of the default signing identity.
pub fn default_identity_dir() -> PathBuf {
    vouch_home().join("identity")
}

/// The directory of trust anchors added with `vouch trust add`.
pub fn trust_dir() -> PathBuf {
    vouch_home().join("trust")
}

/// Where `vouch trust update` keeps the public lists it replaced.
pub fn trust_lists_dir() -> PathBuf {
    vouch_home().join("trust-lists")
}
