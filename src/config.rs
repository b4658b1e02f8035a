//! `$VOUCH_HOME/config.toml`: the defaults users would otherwise retype on
//! every run (nodes, header sources, calendars, the time-stamping authority,
//! extra trusted roots). A flag given on the command line replaces the
//! setting of the same name; an absent file is an empty configuration.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

/// The file's name under `$VOUCH_HOME`.
pub const FILE: &str = "config.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: invalid configuration: {message}", path.display())]
    Parse { path: PathBuf, message: String },
}

/// The settings, each as its flag takes it.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// EVM JSON-RPC URLs (`--rpc`).
    #[serde(default, deserialize_with = "one_or_many")]
    pub rpc: Vec<String>,
    /// Bitcoin headers file (`--headers`), relative to the file's folder.
    #[serde(default)]
    pub headers: Option<PathBuf>,
    /// Esplora base URLs (`--esplora`).
    #[serde(default, deserialize_with = "one_or_many")]
    pub esplora: Vec<String>,
    /// OpenTimestamps calendars (`--calendar`).
    #[serde(default, deserialize_with = "one_or_many")]
    pub calendars: Vec<String>,
    /// RFC 3161 time-stamping authority (`--tsa`).
    #[serde(default)]
    pub tsa: Option<String>,
    /// Root certificates to trust (`--trust`), relative to the file's folder.
    #[serde(default, deserialize_with = "one_or_many")]
    pub trust: Vec<PathBuf>,
    /// The file read, or where it would be.
    #[serde(skip)]
    pub path: PathBuf,
}

/// Field, meaning: the one list `man 5 vouch-config` is written from.
pub const FIELDS: [(&str, &str); 6] = [
    ("rpc", "EVM JSON-RPC URL, or a list of them: what --rpc gives verify and check (every node must agree), and the node anchor --to evm and watch --to evm send to (the first)."),
    ("headers", "Bitcoin headers file (lines of `height header-hex`) for verify, check and anchor upgrade, as --headers; a relative path is read from the folder of config.toml."),
    ("esplora", "Esplora REST base URL, or a list, to fetch Bitcoin headers from, as --esplora."),
    ("calendars", "OpenTimestamps calendar URLs that anchor --to ots and watch --to ots send to, and that anchor upgrade also trusts, as --calendar [default: the public calendars]."),
    ("tsa", "RFC 3161 time-stamping authority URL for sign and watch, as --tsa; the identity's own settings.toml, when it names one, comes first."),
    ("trust", "Root certificate (PEM) files, or a list, that verify and check trust, as --trust; relative paths are read from the folder of config.toml."),
];

/// An example configuration, shown in the man page.
pub const EXAMPLE: &str = r#"# $VOUCH_HOME/config.toml
rpc = ["https://eth.example.org", "https://rpc.other-operator.example"]
headers = "bitcoin-headers.txt"
esplora = "https://esplora.example.org/api"
calendars = ["https://a.pool.opentimestamps.org", "https://b.pool.opentimestamps.org"]
tsa = "http://timestamp.example.org"
trust = ["roots/daily-planet-root.pem"]
"#;

fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany<T> {
        One(T),
        Many(Vec<T>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// The configuration in `home` (`$VOUCH_HOME`); none there is no setting.
pub fn load(home: &Path) -> Result<Config, ConfigError> {
    let path = home.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config { path, ..Config::default() }),
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let mut config: Config = toml::from_str(&text)
        .map_err(|e| ConfigError::Parse { path: path.clone(), message: e.message().to_string() })?;
    config.path = path;
    Ok(config)
}

impl Config {
    /// A path the file names, read from the file's folder when relative.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.path.parent().unwrap_or(Path::new(".")).join(path)
    }

    /// How an error about a path names its setting: `trust in /home/me/.config/vouch/config.toml`.
    pub fn setting(&self, field: &str) -> String {
        format!("{field} in {}", self.path.display())
    }

    /// The roots `trust` names, each blamed on the setting if unreadable.
    pub fn trust_roots(&self) -> Vec<crate::trust::RootFile> {
        self.trust
            .iter()
            .map(|written| crate::trust::RootFile {
                path: self.resolve(written),
                written: written.clone(),
                setting: self.setting("trust"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_or_a_list_and_nothing_unknown() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), EXAMPLE).unwrap();
        let config = load(dir.path()).unwrap();
        assert_eq!(config.rpc.len(), 2);
        assert_eq!(config.esplora, ["https://esplora.example.org/api"]);
        assert_eq!(config.resolve(config.headers.as_ref().unwrap()), dir.path().join("bitcoin-headers.txt"));
        assert_eq!(config.trust_roots()[0].path, dir.path().join("roots/daily-planet-root.pem"));
        std::fs::write(dir.path().join(FILE), "rcp = \"http://x\"\n").unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("config.toml") && err.contains("rcp"), "{err}");
        let empty = tempfile::tempdir().unwrap();
        assert!(load(empty.path()).unwrap().rpc.is_empty());
    }
}
