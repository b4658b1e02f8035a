//! X.509 for C2PA: issuing the Ed25519 chain, reading chains, and saying in
//! plain words why a validator would refuse a certificate.

use std::path::Path;

use c2pa::crypto::cose::{check_certificate_profile, CertificateTrustPolicy, TrustAnchorType};
use c2pa::status_tracker::StatusTracker;
use c2pa::SigningAlg;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::Signer as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod,
    KeyUsagePurpose, SanType, SerialNumber,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;
use zeroize::Zeroizing;

use super::{IdentityError, NewIdentity, Result};

/// id-kp-documentSigning (RFC 9336), preferred by C2PA for content signing.
const DOCUMENT_SIGNING: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 36];
/// Root certificates outlive the signing certificates they issue.
const ROOT_DAYS: i64 = 3650;

/// An Ed25519 key that rcgen can sign certificates with.
struct DalekKey {
    key: ed25519_dalek::SigningKey,
    public: [u8; 32],
}

impl DalekKey {
    fn generate() -> Self {
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        let public = key.verifying_key().to_bytes();
        Self { key, public }
    }

    /// RFC 7093 method 1: the leftmost 160 bits of SHA-256 over the public key.
    /// (rcgen computes identifiers only with its own crypto backend, which
    /// vouch does not build.)
    fn key_id(&self) -> KeyIdMethod {
        KeyIdMethod::PreSpecified(Sha256::digest(self.public)[..20].to_vec())
    }

    fn pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        let doc = self.key.to_pkcs8_der().map_err(|e| IdentityError::Generate(e.to_string()))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }
}

impl rcgen::PublicKeyData for DalekKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ED25519
    }
}

impl rcgen::SigningKey for DalekKey {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        Ok(self.key.sign(msg).to_bytes().to_vec())
    }
}

/// A freshly issued root + signing certificate pair and their keys.
pub struct Generated {
    pub root_pem: String,
    pub signer_pem: String,
    pub root_key_der: Zeroizing<Vec<u8>>,
    pub signer_key_der: Zeroizing<Vec<u8>>,
}

fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    bytes[0] &= 0x7f; // positive, as RFC 5280 requires
    bytes[0] |= 0x01; // and without a leading zero byte
    SerialNumber::from_slice(&bytes)
}

/// Subject names. The organisation is never left out: c2pa-rs reads the
/// signer's organisation as the issuer it reports and refuses a signature
/// without one (`claimSignature.mismatch`), so it defaults to the name.
fn names(common_name: &str, org: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, org.unwrap_or(common_name));
    dn
}

/// Issues a root CA and a signing certificate that C2PA validators accept:
/// X.509 v3, leaf `CA:FALSE`, keyUsage digitalSignature, EKU emailProtection
/// and documentSigning, subject and authority key identifiers.
pub fn generate(req: &NewIdentity) -> Result<Generated> {
    let gen_err = |e: rcgen::Error| IdentityError::Generate(e.to_string());
    let now = ::time::OffsetDateTime::now_utc();
    // Backdate a little so a verifier whose clock lags still accepts the chain.
    let not_before = now - ::time::Duration::minutes(5);
    let leaf_days = i64::from(req.days.max(1));

    let root_key = DalekKey::generate();
    let mut root = CertificateParams::default();
    let org = req.org.as_deref().unwrap_or(&req.name);
    root.distinguished_name = names(&format!("{} Root CA", req.name), Some(org));
    root.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    root.serial_number = Some(random_serial());
    root.key_identifier_method = root_key.key_id();
    root.not_before = not_before;
    root.not_after = now + ::time::Duration::days(ROOT_DAYS.max(leaf_days));
    let root_cert = root.self_signed(&root_key).map_err(gen_err)?;

    let signer_key = DalekKey::generate();
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name = names(&req.name, Some(org));
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages =
        vec![ExtendedKeyUsagePurpose::EmailProtection, ExtendedKeyUsagePurpose::Other(DOCUMENT_SIGNING.to_vec())];
    leaf.use_authority_key_identifier_extension = true;
    leaf.serial_number = Some(random_serial());
    leaf.key_identifier_method = signer_key.key_id();
    leaf.not_before = not_before;
    leaf.not_after = now + ::time::Duration::days(leaf_days);
    if let Some(email) = &req.email {
        let email = email
            .clone()
            .try_into()
            .map_err(|_| IdentityError::Generate(format!("not a usable email address: {email}")))?;
        leaf.subject_alt_names = vec![SanType::Rfc822Name(email)];
    }
    let issuer = Issuer::new(root, &root_key);
    let signer_cert = leaf.signed_by(&signer_key, &issuer).map_err(gen_err)?;

    Ok(Generated {
        root_pem: root_cert.pem(),
        signer_pem: signer_cert.pem(),
        root_key_der: root_key.pkcs8_der()?,
        signer_key_der: signer_key.pkcs8_der()?,
    })
}

fn bad_cert(path: &Path, reason: impl Into<String>) -> IdentityError {
    IdentityError::BadCert { path: path.to_path_buf(), reason: reason.into() }
}

/// The DER certificates of a PEM file, in file order.
pub fn parse_chain(path: &Path, pem: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut chain = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(pem) {
        let block = block.map_err(|e| bad_cert(path, format!("not a PEM certificate file ({e})")))?;
        if block.label != "CERTIFICATE" {
            continue;
        }
        parse_x509_certificate(&block.contents).map_err(|e| bad_cert(path, format!("corrupt certificate ({e})")))?;
        chain.push(block.contents);
    }
    if chain.is_empty() {
        return Err(bad_cert(path, "no certificate found (expected PEM `CERTIFICATE` blocks)"));
    }
    Ok(chain)
}

/// Re-encodes DER certificates as one PEM bundle.
pub fn to_pem(chain: &[Vec<u8>]) -> String {
    chain.iter().map(|der| pem_block("CERTIFICATE", der)).collect::<Vec<_>>().join("")
}

fn pem_block(label: &str, der: &[u8]) -> String {
    use pkcs8::der::pem::{encode_string, LineEnding};
    encode_string(label, LineEnding::LF, der).unwrap_or_default()
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    // Every DER handled here went through `parse_chain`, which parsed it.
    parse_x509_certificate(der).map(|(_, c)| c).expect("certificate was validated by parse_chain")
}

/// Whether a certificate names itself as issuer (a root, or a self-signed leaf).
pub fn is_self_issued(der: &[u8]) -> bool {
    let cert = parse(der);
    cert.subject().as_raw() == cert.issuer().as_raw()
}

/// What a person needs to know about one certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub common_name: Option<String>,
    pub organization: Option<String>,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub alg: String,
    /// SHA-256 of the DER certificate, hex: what `--trust` and policies pin.
    pub sha256: String,
}

impl CertSummary {
    pub fn from_der(path: &Path, der: &[u8]) -> Result<Self> {
        let cert = parse(der);
        let common_name = first_str(cert.subject().iter_common_name());
        let organization = first_str(cert.subject().iter_organization());
        let alg = signing_alg(path, der)
            .map(|a| crate::provenance::codes::alg_name(&a.to_string()))
            .unwrap_or_else(|_| "unsupported".into());
        Ok(Self {
            subject: cert.subject().to_string(),
            common_name,
            organization,
            issuer: cert.issuer().to_string(),
            serial: cert.raw_serial_as_string(),
            not_before: rfc3339(cert.validity().not_before),
            not_after: rfc3339(cert.validity().not_after),
            alg,
            sha256: hex::encode(Sha256::digest(der)),
        })
    }
}

fn first_str<'a>(mut values: impl Iterator<Item = &'a AttributeTypeAndValue<'a>>) -> Option<String> {
    values.next().and_then(|a| a.as_str().ok()).map(str::to_string)
}

fn rfc3339(t: ASN1Time) -> String {
    chrono::DateTime::from_timestamp(t.timestamp(), 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The C2PA signing algorithm that a certificate's key calls for.
pub fn signing_alg(path: &Path, der: &[u8]) -> Result<SigningAlg> {
    let cert = parse(der);
    let spki = cert.public_key();
    let oid = spki.algorithm.algorithm.to_id_string();
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
    Ok(match (oid.as_str(), curve.as_deref()) {
        ("1.3.101.112", _) => SigningAlg::Ed25519,
        ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => SigningAlg::Es256,
        ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => SigningAlg::Es384,
        ("1.2.840.10045.2.1", Some("1.3.132.0.35")) => SigningAlg::Es512,
        ("1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10", _) => SigningAlg::Ps256,
        _ => {
            return Err(bad_cert(
                path,
                format!("unsupported key algorithm {oid}: C2PA signs with Ed25519, ECDSA (P-256/384/521) or RSA-PSS"),
            ))
        }
    })
}

/// Proves that the private key belongs to the certificate by signing a
/// challenge and verifying it with the certificate's public key.
pub fn check_key_matches(
    leaf_der: &[u8],
    chain_pem: &[u8],
    key_pem: &[u8],
    alg: SigningAlg,
    key_path: &Path,
    cert_path: &Path,
) -> Result<()> {
    use c2pa::Signer as _;
    use c2pa_raw_crypto::validator_for_signing_alg;
    let mismatch = || IdentityError::KeyMismatch { key: key_path.to_path_buf(), cert: cert_path.to_path_buf() };
    let signer = c2pa::create_signer::from_keys(chain_pem, key_pem, alg, None).map_err(|e| IdentityError::BadKey {
        path: key_path.to_path_buf(),
        reason: format!("not a usable {alg} key ({e})"),
    })?;
    let challenge = b"vouch: does this key belong to this certificate?";
    let signature = signer.sign(challenge).map_err(|_| mismatch())?;
    let validator = validator_for_signing_alg(alg).ok_or_else(mismatch)?;
    let leaf = parse(leaf_der);
    validator.validate(&signature, challenge, leaf.public_key().raw).map_err(|_| mismatch())
}

/// Every reason a C2PA validator would refuse this chain as a signer, in
/// words a person can act on. Empty when the chain is acceptable.
pub fn c2pa_objections(chain: &[Vec<u8>], root: Option<&[u8]>) -> Vec<String> {
    let leaf = parse(&chain[0]);
    let mut reasons = Vec::new();
    let now = ASN1Time::now();
    let validity = leaf.validity();
    if validity.not_after < now {
        reasons.push(format!("the signing certificate expired on {}", rfc3339(validity.not_after)));
    } else if validity.not_before > now {
        reasons.push(format!("the signing certificate is not valid until {}", rfc3339(validity.not_before)));
    }
    if is_self_issued(&chain[0]) {
        reasons.push("the signing certificate is self-signed: C2PA requires one issued by a CA".into());
    }
    if leaf.subject().iter_organization().next().is_none() {
        reasons.push("the signing certificate's subject has no organization (O): C2PA validators report it as the issuer and refuse signatures without one".into());
    }
    if leaf.is_ca() {
        reasons.push(
            "the signing certificate is a CA certificate (CA:TRUE): C2PA requires an end-entity certificate".into(),
        );
    }
    match leaf.extended_key_usage() {
        Ok(Some(eku)) => {
            let usable = eku.value.email_protection
                || eku.value.other.iter().any(|o| {
                    ["1.3.6.1.5.5.7.3.36", "1.3.6.1.4.1.311.76.59.1.9", "1.3.6.1.4.1.62558.2.1"]
                        .contains(&o.to_id_string().as_str())
                });
            if eku.value.any || !usable {
                reasons.push(
                    "the signing certificate's extended key usage lacks emailProtection or documentSigning (1.3.6.1.5.5.7.3.36)".into(),
                );
            }
        }
        Ok(None) => reasons.push(
            "the signing certificate has no extended key usage: C2PA requires emailProtection or documentSigning"
                .into(),
        ),
        Err(_) => reasons.push("the signing certificate's extended key usage extension is malformed".into()),
    }
    match leaf.key_usage() {
        Ok(Some(ku)) if ku.value.digital_signature() => {}
        _ => reasons.push("the signing certificate's key usage does not include digitalSignature".into()),
    }
    if reasons.is_empty() {
        // Anything our plain-words checks missed, in c2pa's own terms.
        let policy = CertificateTrustPolicy::default();
        let mut log = StatusTracker::default();
        if let Err(e) = check_certificate_profile(&chain[0], &policy, &mut log, None) {
            reasons.push(format!("the signing certificate fails the C2PA certificate profile: {e}"));
        }
    }
    if let Some(root) = root {
        let mut policy = CertificateTrustPolicy::default();
        let anchored =
            policy.add_trust_anchors(to_pem(&[root.to_vec()]).as_bytes(), "", TrustAnchorType::Manifest, None).is_ok()
                && policy.check_certificate_trust(&chain[1..], &chain[0], None).is_ok();
        if !anchored {
            reasons.push("the chain does not lead from the signing certificate to the root it ends with".into());
        }
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issues root → leaf like `generate`, letting a test spoil the leaf.
    fn chain_with(spoil: impl Fn(&mut CertificateParams)) -> (Vec<Vec<u8>>, Vec<u8>) {
        let root_key = DalekKey::generate();
        let mut root = CertificateParams::default();
        root.distinguished_name = names("Test Root", None);
        root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        root.key_identifier_method = root_key.key_id();
        root.serial_number = Some(random_serial());
        let root_der = root.self_signed(&root_key).unwrap().der().to_vec();
        let leaf_key = DalekKey::generate();
        let mut leaf = CertificateParams::default();
        leaf.distinguished_name = names("Test Signer", None);
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(DOCUMENT_SIGNING.to_vec())];
        leaf.use_authority_key_identifier_extension = true;
        leaf.key_identifier_method = leaf_key.key_id();
        leaf.serial_number = Some(random_serial());
        spoil(&mut leaf);
        let leaf_der = leaf.signed_by(&leaf_key, &Issuer::new(root, &root_key)).unwrap().der().to_vec();
        (vec![leaf_der], root_der)
    }

    #[test]
    fn a_well_formed_chain_has_no_objections() {
        let (chain, root) = chain_with(|_| {});
        assert_eq!(c2pa_objections(&chain, Some(&root)), Vec::<String>::new());
    }

    #[test]
    fn generated_identity_passes_c2pas_own_profile_check() {
        let generated = generate(&NewIdentity { name: "N".into(), org: None, email: None, days: 10 }).unwrap();
        let chain = parse_chain(Path::new("signer.pem"), generated.signer_pem.as_bytes()).unwrap();
        let root = parse_chain(Path::new("root.pem"), generated.root_pem.as_bytes()).unwrap();
        assert_eq!(c2pa_objections(&chain, Some(&root[0])), Vec::<String>::new());
    }

    fn objections(spoil: impl Fn(&mut CertificateParams)) -> String {
        let (chain, root) = chain_with(spoil);
        c2pa_objections(&chain, Some(&root)).join("; ")
    }

    #[test]
    fn an_expired_certificate_is_refused_with_its_date() {
        let found = objections(|leaf| {
            leaf.not_before = rcgen::date_time_ymd(2020, 1, 1);
            leaf.not_after = rcgen::date_time_ymd(2021, 1, 1);
        });
        assert!(found.contains("expired on 2021-01-01"), "{found}");
    }

    #[test]
    fn a_certificate_without_extended_key_usage_is_refused() {
        let found = objections(|leaf| leaf.extended_key_usages.clear());
        assert!(found.contains("no extended key usage"), "{found}");
    }

    #[test]
    fn a_server_certificate_is_refused_for_its_key_usage() {
        let found = objections(|leaf| leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth]);
        assert!(found.contains("lacks emailProtection or documentSigning"), "{found}");
    }

    #[test]
    fn a_ca_certificate_cannot_sign_content() {
        let found = objections(|leaf| leaf.is_ca = IsCa::Ca(BasicConstraints::Unconstrained));
        assert!(found.contains("CA certificate"), "{found}");
    }

    #[test]
    fn a_self_signed_leaf_is_refused() {
        let key = DalekKey::generate();
        let mut leaf = CertificateParams::default();
        leaf.distinguished_name = names("Lonely Signer", None);
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
        leaf.key_identifier_method = key.key_id();
        leaf.serial_number = Some(random_serial());
        let der = leaf.self_signed(&key).unwrap().der().to_vec();
        let found = c2pa_objections(&[der], None).join("; ");
        assert!(found.contains("self-signed"), "{found}");
    }

    #[test]
    fn a_chain_to_another_root_is_refused() {
        let (chain, _) = chain_with(|_| {});
        let (_, other_root) = chain_with(|_| {});
        let found = c2pa_objections(&chain, Some(&other_root)).join("; ");
        assert!(found.contains("does not lead"), "{found}");
    }
}
