//! Private keys at rest: PKCS#8 PEM, mode 0600, optionally encrypted with
//! a passphrase (PBES2: scrypt, memory-hard, and AES-256-CBC).

use std::fmt;
use std::path::Path;

use pkcs8::der::pem::LineEnding;
use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo, SecretDocument};
use zeroize::Zeroizing;

use super::{IdentityError, Result};
use crate::fsx;

const PLAIN_LABEL: &str = "PRIVATE KEY";
const ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// A passphrase, wiped from memory when dropped and never printed.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(secret: String) -> Self {
        Self(Zeroizing::new(secret))
    }

    /// Reads the passphrase from the environment variable `var`.
    pub fn from_env(var: &str) -> Result<Self> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Self::new(v)),
            _ => Err(IdentityError::PassphraseEnvMissing(var.to_string())),
        }
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

fn bad_key(path: &Path, reason: impl Into<String>) -> IdentityError {
    IdentityError::BadKey { path: path.to_path_buf(), reason: reason.into() }
}

/// Parses the single PEM block of a key file.
fn parse_pem(path: &Path, bytes: &[u8]) -> Result<(String, Zeroizing<Vec<u8>>)> {
    let text = std::str::from_utf8(bytes).map_err(|_| bad_key(path, "not a PEM file"))?;
    let (label, der) = pkcs8::der::pem::decode_vec(text.trim().as_bytes())
        .map_err(|e| bad_key(path, format!("not a PEM private key ({e})")))?;
    Ok((label.to_string(), Zeroizing::new(der)))
}

/// Writes a PKCS#8 key (given as DER) with mode 0600, encrypting it when a
/// passphrase is given.
pub fn write_key(path: &Path, der: &[u8], passphrase: Option<&Passphrase>) -> Result<()> {
    let pem = match passphrase {
        Some(pass) => {
            let info = PrivateKeyInfo::try_from(der).map_err(|e| bad_key(path, e.to_string()))?;
            let encrypted = info
                .encrypt(rand_core::OsRng, pass.bytes())
                .map_err(|e| bad_key(path, format!("cannot encrypt: {e}")))?;
            encrypted.to_pem(ENCRYPTED_LABEL, LineEnding::LF).map_err(|e| bad_key(path, e.to_string()))?
        }
        None => SecretDocument::try_from(der)
            .and_then(|doc| doc.to_pem(PLAIN_LABEL, LineEnding::LF))
            .map_err(|e| bad_key(path, e.to_string()))?,
    };
    fsx::write_atomic(path, pem.as_bytes(), Some(fsx::SECRET_MODE), false)
        .map_err(|source| IdentityError::Io { path: path.to_path_buf(), source })
}

/// Whether the key file is passphrase-encrypted.
pub fn is_encrypted(path: &Path, bytes: &[u8]) -> Result<bool> {
    let (label, _) = parse_pem(path, bytes)?;
    Ok(label == ENCRYPTED_LABEL)
}

/// Returns the key as unencrypted PKCS#8 PEM (in wiped memory), decrypting
/// it with the passphrase when the file is encrypted.
pub fn read_key_pem(path: &Path, bytes: &[u8], passphrase: Option<&Passphrase>) -> Result<Zeroizing<Vec<u8>>> {
    let (label, der) = parse_pem(path, bytes)?;
    let plain = match label.as_str() {
        PLAIN_LABEL => SecretDocument::try_from(der.as_slice()).map_err(|e| bad_key(path, e.to_string()))?,
        ENCRYPTED_LABEL => {
            let pass = passphrase.ok_or_else(|| IdentityError::PassphraseNeeded(path.to_path_buf()))?;
            let info = EncryptedPrivateKeyInfo::try_from(der.as_slice()).map_err(|e| bad_key(path, e.to_string()))?;
            info.decrypt(pass.bytes()).map_err(|_| IdentityError::WrongPassphrase(path.to_path_buf()))?
        }
        "EC PRIVATE KEY" | "RSA PRIVATE KEY" => {
            return Err(bad_key(
                path,
                format!(
                    "{label} is a legacy format: convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8`"
                ),
            ))
        }
        other => return Err(bad_key(path, format!("expected a PKCS#8 private key, found a PEM `{other}` block"))),
    };
    // Validate the structure now so a corrupt key fails here, naming the file.
    PrivateKeyInfo::try_from(plain.as_bytes()).map_err(|e| bad_key(path, format!("corrupt private key ({e})")))?;
    let pem = plain.to_pem(PLAIN_LABEL, LineEnding::LF).map_err(|e| bad_key(path, e.to_string()))?;
    Ok(Zeroizing::new(pem.as_bytes().to_vec()))
}

/// DER of an unencrypted PKCS#8 PEM key.
pub fn pem_to_der(path: &Path, pem: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    parse_pem(path, pem).map(|(_, der)| der)
}

/// Refuses a private key that other users can read: it may already be
/// compromised, and signing with it would hide that.
pub fn refuse_exposed(path: &Path) -> Result<()> {
    let mode = fsx::mode_of(path).map_err(|source| IdentityError::Io { path: path.to_path_buf(), source })?;
    if mode & 0o077 != 0 {
        return Err(bad_key(
            path,
            format!("private key is readable by other users (mode {mode:04o}); run `chmod 600 {}`", path.display()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_der() -> Vec<u8> {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        key.to_pkcs8_der().unwrap().as_bytes().to_vec()
    }

    #[test]
    fn encrypted_key_round_trips_and_refuses_wrong_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let pass = Passphrase::new("correct horse".into());
        write_key(&path, &sample_der(), Some(&pass)).unwrap();
        assert_eq!(fsx::mode_of(&path).unwrap(), 0o600);
        let bytes = std::fs::read(&path).unwrap();
        assert!(is_encrypted(&path, &bytes).unwrap());
        let pem = read_key_pem(&path, &bytes, Some(&pass)).unwrap();
        assert_eq!(pem_to_der(&path, &pem).unwrap().as_slice(), sample_der().as_slice());
        let wrong = Passphrase::new("battery staple".into());
        assert!(matches!(read_key_pem(&path, &bytes, Some(&wrong)), Err(IdentityError::WrongPassphrase(_))));
        assert!(matches!(read_key_pem(&path, &bytes, None), Err(IdentityError::PassphraseNeeded(_))));
    }

    #[test]
    fn world_readable_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        write_key(&path, &sample_der(), None).unwrap();
        refuse_exposed(&path).unwrap();
        fsx::set_mode(&path, 0o644).unwrap();
        let err = refuse_exposed(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn passphrase_debug_is_redacted() {
        assert_eq!(format!("{:?}", Passphrase::new("hunter2".into())), "Passphrase(<redacted>)");
    }
}
