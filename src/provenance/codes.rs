//! C2PA validation failure codes in plain words, for people: text and HTML
//! show the sentence, JSON keeps the code. A code without a sentence here
//! is shown as the code itself.

/// What a `valid` verdict means, in the words every command shows: the
/// signature holds, and only the signer's trust is missing.
pub const VALID_WORDS: &str = "valid — signer not in your trust lists";

/// The code of a signer outside the trust lists: for `valid`, said as
/// [`VALID_WORDS`], never as a failure.
pub const UNTRUSTED: &str = "signingCredential.untrusted";

/// A C2PA signing algorithm as every command spells it (`Ed25519`, `ES256`,
/// `PS384`…), however the source spelled it (`ed25519`, `Es256`).
pub fn alg_name(alg: &str) -> String {
    match alg.to_ascii_lowercase().as_str() {
        "ed25519" => "Ed25519".to_string(),
        other => other.to_ascii_uppercase(),
    }
}

/// The sentence for one failure code.
pub fn plain(code: &str) -> Option<&'static str> {
    Some(match code {
        "assertion.dataHash.mismatch" => "the image data changed after it was signed",
        "assertion.bmffHash.mismatch" => "the video or audio data changed after it was signed",
        "assertion.boxesHash.mismatch" => "the file's data changed after it was signed",
        "assertion.hashedURI.mismatch" => "a statement in the credentials changed after it was signed",
        "assertion.dataHash.malformed" | "assertion.bmffHash.malformed" => {
            "the record of what the signature covers is malformed"
        }
        "assertion.boxesHash.unknownBox" => "the file holds data the signature does not cover",
        "assertion.missing" => "a statement the credentials refer to is missing",
        "assertion.inaccessible" => "a statement the credentials refer to cannot be read",
        "assertion.undeclared" => "the credentials hold a statement their claim does not list",
        "assertion.multipleHardBindings" => "the credentials bind to the file's data more than once",
        "assertion.notRedacted" => "a statement marked as removed is still there",
        "assertion.selfRedacted" => "the credentials remove one of their own statements",
        "assertion.action.ingredientMismatch" => "an edit refers to an ingredient that is not there",
        "assertion.action.malformed" => "the list of edits is malformed",
        "assertion.action.redacted" | "assertion.action.redactionMismatch" => {
            "the list of edits was removed or does not match what was removed"
        }
        "assertion.cbor.invalid" | "assertion.json.invalid" => "a statement in the credentials cannot be decoded",
        "assertion.cloud-data.hardBinding" | "assertion.cloud-data.actions" => {
            "a statement that must be in the file is stored elsewhere"
        }
        "claim.missing" => "the credentials have no claim",
        "claim.multiple" => "the credentials hold more than one claim",
        "claim.hardBindings.missing" => "nothing in the credentials binds them to the file's data",
        "claim.required.missing" => "the claim lacks a required field",
        "claim.cbor.invalid" | "claim.malformed" => "the claim cannot be decoded",
        "claimSignature.missing" => "the claim is not signed",
        "claimSignature.mismatch" => "the signature does not match the claim",
        "claimSignature.outsideValidity" => "it was signed outside the signing certificate's validity",
        "signingCredential.untrusted" => "the signer is not in your trust lists",
        "signingCredential.invalid" => "the signing certificate is not valid for signing credentials",
        "signingCredential.revoked" => "the signing certificate was revoked",
        "signingCredential.expired" => "the signing certificate had expired when it signed",
        "timeStamp.mismatch" => "the timestamp does not match the signature",
        "timeStamp.untrusted" => "the timestamp comes from an authority not in your trust lists",
        "timeStamp.outsideValidity" => "the timestamp falls outside the signing certificate's validity",
        "timeStamp.malformed" => "the timestamp cannot be decoded",
        "manifest.inaccessible" | "manifest.missing" => "the credentials cannot be found or read",
        "manifest.multipleParents" => "the credentials name more than one parent",
        "manifest.update.invalid" | "manifest.update.wrongParents" => "an update to the credentials is not valid",
        "ingredient.hashedURI.mismatch" | "ingredient.manifest.mismatch" => {
            "an ingredient's credentials changed after they were used"
        }
        "ingredient.manifest.missing" => "an ingredient's credentials are missing",
        "ingredient.claimSignature.mismatch" => "an ingredient's signature does not match its claim",
        "hashedURI.missing" => "a reference inside the credentials points to nothing",
        "hashedURI.mismatch" => "something the credentials refer to changed after it was signed",
        "algorithm.unsupported" => "it was signed with an algorithm C2PA does not allow",
        "algorithm.deprecated" => "it was signed with an algorithm C2PA no longer allows",
        "general.error" => "the credentials could not be checked",
        _ => return None,
    })
}

/// Every code of a verdict in plain words, `; `-separated, each sentence
/// once; a code without a sentence is shown as the code.
pub fn sentences(codes: &[String]) -> String {
    let mut said: Vec<String> = Vec::new();
    for code in codes {
        let words = plain(code).unwrap_or(code).to_string();
        if !said.contains(&words) {
            said.push(words);
        }
    }
    said.join("; ")
}

/// [`sentences`] for the file at `path`: the data a hash binding covers is
/// named for what the file is (a PDF's data is not image data).
pub fn sentences_for(codes: &[String], path: &std::path::Path) -> String {
    let kind = match crate::media::Format::from_path(path).map(|f| f.mime()) {
        Some(mime) if mime.starts_with("image/") => return sentences(codes),
        Some(mime) if mime.starts_with("audio/") => "the audio data",
        Some(mime) if mime.starts_with("video/") => "the video data",
        _ => "the file's data",
    };
    sentences(codes).replace("the image data", kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_reads_as_a_sentence_and_unknown_codes_stay_codes() {
        let codes = ["assertion.dataHash.mismatch".to_string(), "made.up".into(), "signingCredential.untrusted".into()];
        assert_eq!(
            sentences(&codes),
            "the image data changed after it was signed; made.up; the signer is not in your trust lists"
        );
        assert_eq!(sentences(&[]), "");
        let tampered = ["assertion.dataHash.mismatch".to_string()];
        let pdf = sentences_for(&tampered, std::path::Path::new("report.pdf"));
        assert_eq!(pdf, "the file's data changed after it was signed");
        assert_eq!(sentences_for(&tampered, std::path::Path::new("a.JPG")), sentences(&tampered));
    }

    #[test]
    fn an_algorithm_has_one_spelling() {
        for (given, shown) in [("ed25519", "Ed25519"), ("Ed25519", "Ed25519"), ("Es256", "ES256"), ("ps384", "PS384")] {
            assert_eq!(alg_name(given), shown);
        }
    }
}
