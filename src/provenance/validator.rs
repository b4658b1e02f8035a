//! The c2pa contexts one verification run reads manifests with.
//!
//! c2pa re-parses every trust anchor it is given for each manifest store it
//! opens: with the public lists that is some 160 certificates, about a
//! millisecond a file, more than validating the file itself. So each file is
//! read twice: first parse-only (no hashing, no trust), to learn which
//! certificates its manifests carry; then validated against only the anchors
//! that could vouch for them. c2pa ties a chain to an anchor by exactly one
//! rule, an anchor whose subject is the issuer of a certificate in the chain
//! (whose signature it then checks), and accepts an end-entity certificate
//! from the allowed list by its exact bytes; the anchors kept are those,
//! every time-stamping authority when a manifest carries a timestamp (the
//! first read does not see a timestamp's chain), and every local anchor (it
//! may be a TSA's root). The verdict is therefore the one the full set
//! gives. Files whose candidates are the same share one context.
//!
//! Files of one batch mostly come from one signer, so the parse-only read
//! is usually skipped: once two files in a row have needed the same
//! anchors, a file is first validated with their context, and that reading
//! stands when the anchors its own certificates call for are exactly those,
//! so it is the very reading the two-step path would make (the manifests a
//! validating read holds are those the parse finds: c2pa loads each from
//! the store's bytes alone). A file that calls for other anchors is read
//! again with those, one that fails is read the two-step way, and the
//! files after either wait until two in a row agree again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use c2pa::{Context, Reader};

use crate::trust::{lists::ListName, Slot, TrustAnchors};

/// Reads and validates manifests against a run's trust anchors.
pub struct Validator {
    anchors: TrustAnchors,
    allow_remote: bool,
    /// Validates against every anchor: used when the first read fails, so
    /// errors are c2pa's own, and for remote manifests (fetched once).
    full: Arc<Context>,
    parse_only: Arc<Context>,
    /// Each anchor certificate's slot, what decides whether it is kept, and
    /// its subject (raw DER), parsed once.
    candidates: Vec<(Slot, Keep, Vec<u8>)>,
    narrowed: Mutex<HashMap<Vec<Slot>, Arc<Context>>>,
    /// The anchors the last file read without a reused context needed.
    last: Mutex<Option<Last>>,
}

/// The anchors a file needed, their context, and whether the file before
/// it needed the same: only then are the next files tried with them first,
/// so a folder whose signers alternate is read as before, not twice.
#[derive(Clone)]
struct Last {
    keep: Vec<Slot>,
    context: Arc<Context>,
    repeated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// A CA: kept when it names the issuer of a certificate the file carries.
    IssuerOf,
    /// An allowed end-entity certificate: kept when the file carries it.
    Exact,
    /// A time-stamping authority: kept when a manifest carries a timestamp
    /// (whose chain the first read does not see), or as `IssuerOf`.
    TimeStamping,
    /// A local anchor: always kept (it may be a TSA's root; local anchors
    /// are few).
    Always,
}

impl Validator {
    pub fn new(anchors: TrustAnchors, allow_remote: bool) -> Result<Self, c2pa::Error> {
        let full = super::context(anchors.c2pa_settings(), allow_remote)?;
        let parse_only = super::parse_only_context()?;
        let candidates = anchors
            .slots()
            .map(|(slot, list, der)| {
                let keep = match list {
                    Some(ListName::InterimAllowed) => Keep::Exact,
                    Some(ListName::Tsa) => Keep::TimeStamping,
                    None => Keep::Always,
                    _ => Keep::IssuerOf,
                };
                let subject = match keep {
                    Keep::IssuerOf | Keep::TimeStamping => subject_of(der).unwrap_or_default(),
                    _ => der.to_vec(),
                };
                (slot, keep, subject)
            })
            .collect();
        Ok(Validator {
            anchors,
            allow_remote,
            full,
            parse_only,
            candidates,
            narrowed: Mutex::new(HashMap::new()),
            last: Mutex::new(None),
        })
    }

    /// A validator with no trust anchors at all (every signer at best `valid`).
    pub fn without_trust() -> Result<Self, c2pa::Error> {
        Self::new(TrustAnchors::default(), false)
    }

    /// Opens a manifest store (`open` builds the reader from a context) and
    /// validates it against the anchors that can matter for it.
    pub(crate) fn read(&self, open: impl Fn(&Arc<Context>) -> c2pa::Result<Reader>) -> c2pa::Result<Reader> {
        if self.allow_remote || self.candidates.is_empty() {
            return open(&self.full);
        }
        let predicted = self.last.lock().unwrap_or_else(|e| e.into_inner()).clone().filter(|last| last.repeated);
        let mut known = None;
        if let Some(Last { keep, context, .. }) = predicted {
            match open(&context) {
                Ok(reader) => {
                    // A validating read holds the manifests a parse-only read
                    // finds (c2pa loads each from the store's bytes alone),
                    // so the anchors they call for are known either way.
                    let needed = self.keep_for_reader(&reader);
                    // Exactly the anchors the two-step path would give c2pa:
                    // this is its reading.
                    if needed == keep {
                        return Ok(reader);
                    }
                    known = Some(needed);
                }
                // No manifest is no manifest whatever the anchors.
                Err(e) if super::is_no_manifest(&e) => return Err(e),
                Err(_) => {}
            }
        }
        let keep = match known {
            Some(keep) => keep,
            None => match open(&self.parse_only) {
                Ok(parsed) => self.keep_for_reader(&parsed),
                Err(e) if super::is_no_manifest(&e) => return Err(e),
                Err(_) => return open(&self.full),
            },
        };
        let context = self.context_for(keep.clone())?;
        {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            let repeated = last.as_ref().is_some_and(|l| l.keep == keep);
            *last = Some(Last { keep, context: context.clone(), repeated });
        }
        open(&context)
    }

    /// The slots of the anchors that can vouch for the manifests a reader holds.
    fn keep_for_reader(&self, reader: &Reader) -> Vec<Slot> {
        let signatures: Vec<_> = reader.iter_manifests().filter_map(|m| m.signature_info()).collect();
        // c2pa reads the time of a timestamp it can parse; one it cannot
        // parse is not trusted whatever the anchors.
        let timestamped = signatures.iter().any(|info| info.time.is_some());
        let carried: Vec<Vec<u8>> =
            signatures.iter().flat_map(|info| super::verify::chain_der(info.cert_chain())).collect();
        self.keep_for(&carried, timestamped)
    }

    /// The slots of the anchors that can vouch for a file carrying these
    /// certificates (DER), and a timestamp or not.
    fn keep_for(&self, carried: &[Vec<u8>], timestamped: bool) -> Vec<Slot> {
        let issuers: Vec<Vec<u8>> = carried.iter().filter_map(|der| issuer_of(der)).collect();
        self.candidates
            .iter()
            .filter(|(_, keep, bytes)| match keep {
                Keep::IssuerOf => issuers.contains(bytes),
                Keep::TimeStamping => timestamped || issuers.contains(bytes),
                Keep::Exact => carried.contains(bytes),
                Keep::Always => true,
            })
            .map(|(slot, _, _)| *slot)
            .collect()
    }

    fn context_for(&self, keep: Vec<Slot>) -> c2pa::Result<Arc<Context>> {
        let mut cache = self.narrowed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(context) = cache.get(&keep) {
            return Ok(context.clone());
        }
        let context = super::context(self.anchors.subset(&keep).c2pa_settings(), false)?;
        cache.insert(keep, context.clone());
        Ok(context)
    }
}

fn subject_of(der: &[u8]) -> Option<Vec<u8>> {
    x509_parser::parse_x509_certificate(der).ok().map(|(_, c)| c.subject().as_raw().to_vec())
}

fn issuer_of(der: &[u8]) -> Option<Vec<u8>> {
    x509_parser::parse_x509_certificate(der).ok().map(|(_, c)| c.issuer().as_raw().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::lists;

    fn shipped() -> Validator {
        let mut anchors = TrustAnchors::default();
        anchors.public = lists::load_all(std::path::Path::new("/nonexistent")).expect("the shipped lists");
        Validator::new(anchors, false).expect("a validator")
    }

    fn slots_of(v: &Validator, name: ListName) -> Vec<Slot> {
        v.anchors.slots().filter(|(_, n, _)| *n == Some(name)).map(|(s, _, _)| s).collect()
    }

    fn cert_at(v: &Validator, slot: Slot) -> Vec<u8> {
        v.anchors.slots().find(|(s, _, _)| *s == slot).map(|(_, _, d)| d.to_vec()).unwrap()
    }

    /// The narrowed anchors hold exactly the public certificates kept, in
    /// every list (a kept CA must reach c2pa, or its signers would lose
    /// `trusted` only when read through the narrowing).
    #[test]
    fn a_subset_keeps_exactly_the_public_certificates_named() {
        let v = shipped();
        let c2pa = slots_of(&v, ListName::C2pa);
        let kept = c2pa[1];
        let narrowed = v.anchors.subset(&[kept]);
        assert_eq!(narrowed.public.len(), v.anchors.public.len(), "every list stays");
        let carried: Vec<Vec<u8>> = narrowed.slots().map(|(_, _, der)| der.to_vec()).collect();
        assert_eq!(carried, vec![cert_at(&v, kept)]);
        assert!(v.anchors.subset(&[]).slots().next().is_none());
    }

    #[test]
    fn only_anchors_named_as_an_issuer_are_kept_with_every_time_stamping_authority() {
        let v = shipped();
        let tsa = slots_of(&v, ListName::Tsa);
        assert!(!tsa.is_empty());
        // Nothing carried: nothing kept, unless a timestamp is: then every
        // time-stamping authority.
        assert!(v.keep_for(&[], false).is_empty());
        assert_eq!(v.keep_for(&[], true), tsa);
        // A root of the C2PA list, carried: it and every anchor with its
        // subject (c2pa would try each), and the TSAs; no other signer anchor.
        let c2pa = slots_of(&v, ListName::C2pa);
        let root_slot = *c2pa
            .iter()
            .find(|s| {
                let der = cert_at(&v, **s);
                subject_of(&der) == issuer_of(&der)
            })
            .expect("a self-issued root in the C2PA list");
        let root = cert_at(&v, root_slot);
        let subject = subject_of(&root).unwrap();
        let same_subject: Vec<Slot> = v
            .candidates
            .iter()
            .filter(|(_, keep, bytes)| matches!(keep, Keep::IssuerOf | Keep::TimeStamping) && *bytes == subject)
            .map(|(s, _, _)| *s)
            .collect();
        assert!(same_subject.contains(&root_slot));
        let kept_for_root = v.keep_for(std::slice::from_ref(&root), false);
        for slot in &kept_for_root {
            assert!(same_subject.contains(slot), "{slot:?} kept without reason");
        }
        assert!(same_subject.iter().all(|s| kept_for_root.contains(s)));
        assert!(kept_for_root.len() < v.candidates.len() / 2, "narrowing kept most anchors");
        // Files with the same candidates share one context.
        let first = v.context_for(v.keep_for(std::slice::from_ref(&root), false)).unwrap();
        let again = v.context_for(v.keep_for(&[root], false)).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &v.context_for(v.keep_for(&[], false)).unwrap()));
    }

    #[test]
    fn an_allowed_end_entity_certificate_is_kept_only_when_carried() {
        let v = shipped();
        let allowed = slots_of(&v, ListName::InterimAllowed);
        let slot = allowed[0];
        let cert = cert_at(&v, slot);
        assert!(v.keep_for(std::slice::from_ref(&cert), false).contains(&slot));
        assert!(!v.keep_for(&[], true).contains(&slot));
        // The interim entry may then hold allowed certificates and no anchor:
        // c2pa must still take it.
        let only_allowed = v.anchors.subset(&[slot]);
        assert!(super::super::context(only_allowed.c2pa_settings(), false).is_ok());
        assert!(v.context_for(v.keep_for(&[cert], false)).is_ok());
    }

    #[test]
    fn a_file_read_through_the_narrowed_anchors_keeps_its_verdict() {
        use crate::provenance::{sign_file, verify_file, C2paState, SignOptions, SignOutput};
        let dir = tempfile::tempdir().unwrap();
        let id_dir = dir.path().join("identity");
        let signer = crate::identity::test_signer(&id_dir);
        let photo =
            crate::media::probe(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photo.jpg")).unwrap();
        let options = SignOptions {
            output: SignOutput::Dir(dir.path().join("signed")),
            title: None,
            author: None,
            source_type: None,
            force: false,
            allow_invalid_parent: false,
        };
        let signed =
            sign_file(&photo, signer.as_ref(), &super::super::context(None, false).unwrap(), &options).unwrap();
        let signed = crate::media::probe(&signed.output).unwrap();
        // The signer's root among the public lists: the narrowed context must
        // still find it, and the lists' other anchors must not matter.
        let lists = dir.path().join("no-updates");
        let anchors = crate::trust::gather(&[], &dir.path().join("store"), Some(&id_dir), Some(&lists)).unwrap();
        let trusted = verify_file(&signed, &Validator::new(anchors, false).unwrap()).unwrap();
        assert_eq!(trusted.state, C2paState::Trusted, "{:?}", trusted.codes);
        assert!(trusted.manifest.is_some());
        let untrusted = verify_file(&signed, &Validator::without_trust().unwrap()).unwrap();
        assert_eq!(untrusted.state, C2paState::Valid, "{:?}", untrusted.codes);
        assert!(untrusted.codes.iter().any(|c| c == "signingCredential.untrusted"));
    }
}
