//! Text for people: short, aligned, the verdict first.

use std::fmt::Write;

use serde_json::Value;

use crate::anchor::ots::{DetachedTimestamp, Timestamp};
use crate::anchor::stamp::{Anchored, Upgraded};

use crate::anchor::AnchorState;
use crate::identity::{CertSummary, IdentitySummary};
use crate::provenance::{codes, C2paState, Signed};
use crate::results::FileReport;
use crate::trust::Anchor;

/// The last path segment of an IPTC/C2PA digital source type URI.
fn short_source_type(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap_or(uri)
}

/// One line per verified file: `STATE  PATH  details`, then anchors.
pub fn verify_text(report: &FileReport) -> String {
    let mut line = c2pa_line(report);
    for anchor in &report.anchors {
        let _ = write!(line, "\n  anchor {} {}", anchor.kind, anchor_state(anchor.state));
        if let (Some(chain), Some(block)) = (&anchor.chain, anchor.block) {
            let _ = write!(line, ": {chain} block {block}");
        }
        if let Some(time) = &anchor.time {
            let _ = write!(line, " at {time}");
        }
        if let Some(confirmations) = anchor.confirmations {
            let _ = write!(line, ", {confirmations} confirmation(s)");
        }
        if let Some(reason) = &anchor.reason {
            let _ = write!(line, " ({reason})");
        }
        for false_attestation in &anchor.invalid_attestations {
            let _ = write!(line, "\n    beside it, a false attestation: {false_attestation}");
        }
    }
    line
}

fn anchor_state(state: AnchorState) -> &'static str {
    match state {
        AnchorState::Confirmed => "confirmed",
        AnchorState::Pending => "pending",
        AnchorState::Invalid => "invalid",
        AnchorState::Unverifiable => "unverifiable",
    }
}

fn c2pa_line(report: &FileReport) -> String {
    let path = super::printable(&report.path);
    let Some(c2pa) = &report.c2pa else {
        return format!("{:<8} {path}  (no C2PA support for this format)", "-");
    };
    let mut line = format!("{:<8} {path}", c2pa.state.as_str());
    match c2pa.state {
        C2paState::Absent => {
            line.push_str("  no Content Credentials");
            if let Some(reason) = &c2pa.reason {
                let _ = write!(line, " ({})", super::printable_str(reason));
            }
        }
        C2paState::Invalid if c2pa.signer.is_none() => {
            let _ = write!(line, "  {}", super::printable_str(&codes::sentences_for(&c2pa.codes, &report.path)));
            if let Some(reason) = &c2pa.reason {
                let _ = write!(line, " ({})", super::printable_str(reason));
            }
        }
        _ => {
            let signer = c2pa.signer.as_deref().unwrap_or("unknown signer");
            let _ = write!(line, "  signed by {}", super::printable_str(signer));
            if let Some(issuer) = &c2pa.issuer {
                let _ = write!(line, " (issuer {})", super::printable_str(issuer));
            }
            if let Some(at) = &c2pa.signed_at {
                let _ = write!(line, " at {}", super::printable_str(at));
            }
            if !c2pa.actions.is_empty() {
                let _ = write!(line, "; {}", super::printable_str(&c2pa.actions.join(", ")));
            }
            if let Some(dst) = &c2pa.digital_source_type {
                let _ = write!(line, " [{}]", super::printable_str(short_source_type(dst)));
            }
            if c2pa.sidecar {
                line.push_str("; sidecar");
            }
        }
    }
    // Why it is not trusted, in words: `valid` only for want of a trusted
    // signer; `invalid` for every failure found.
    let untrusted_only = c2pa.codes.iter().all(|c| c == codes::UNTRUSTED);
    match c2pa.state {
        C2paState::Valid => {
            let _ = write!(line, "\n         {}", codes::VALID_WORDS);
            if !untrusted_only {
                let others: Vec<String> = c2pa.codes.iter().filter(|c| *c != codes::UNTRUSTED).cloned().collect();
                let _ = write!(line, "; {}", super::printable_str(&codes::sentences_for(&others, &report.path)));
            }
        }
        C2paState::Invalid if c2pa.signer.is_some() && !c2pa.codes.is_empty() => {
            let words = codes::sentences_for(&c2pa.codes, &report.path);
            let _ = write!(line, "\n         invalid: {}", super::printable_str(&words));
        }
        _ => {}
    }
    for words in [c2pa.trust_words(), c2pa.timestamp_words(), c2pa.time_evidence_words()].into_iter().flatten() {
        let _ = write!(line, "\n         {}", super::printable_str(&words));
    }
    history_lines(&mut line, c2pa);
    for signals in super::signal_lines(&c2pa.signals, c2pa.manifest.as_deref()) {
        let _ = write!(line, "\n         {signals}");
    }
    line
}

/// What the history declares or hides, one indented line each: AI or
/// synthetic origin anywhere in the provenance, and ingredients whose
/// credentials were recorded as invalid.
fn history_lines(line: &mut String, c2pa: &crate::provenance::C2paReport) {
    let mut said = Vec::new();
    for (declared, words) in c2pa.synthetic_declarations() {
        let place = if c2pa.manifest.as_deref() == Some(declared.manifest.as_str()) { "" } else { " in its history" };
        let text =
            format!("declares {words} ({}){place}", super::printable_str(short_source_type(&declared.source_type)));
        if !said.contains(&text) {
            let _ = write!(line, "\n         {text}");
            said.push(text);
        }
    }
    for ingredient in &c2pa.invalid_ingredients {
        let title = super::printable_str(ingredient.title.as_deref().unwrap_or("an ingredient"));
        let _ = write!(
            line,
            "\n         history holds {title}, invalid when it was used: {}",
            super::printable_str(&codes::sentences(&ingredient.codes))
        );
    }
}

/// One line per input whose signed copy was already there.
pub fn unchanged_text(unchanged: &crate::provenance::signed_index::Unchanged) -> String {
    format!("unchanged {} -> {}", super::printable(&unchanged.path), super::printable(&unchanged.output))
}

/// One line per signed file.
pub fn sign_text(signed: &Signed) -> String {
    format!(
        "signed   {} -> {} ({}{})",
        super::printable(&signed.path),
        super::printable(&signed.output),
        signed.action,
        if signed.sidecar { ", sidecar" } else { "" }
    )
}

fn cert_lines(out: &mut String, heading: &str, cert: &CertSummary) {
    let _ = writeln!(out, "{heading}");
    let _ = writeln!(out, "  subject   {}", cert.subject);
    let _ = writeln!(out, "  issuer    {}", cert.issuer);
    let _ = writeln!(out, "  valid     {} to {}", cert.not_before, cert.not_after);
    let _ = writeln!(out, "  alg       {}", cert.alg);
    let _ = writeln!(out, "  sha256    {}", cert.sha256);
}

/// A description of an identity.
pub fn identity_text(summary: &IdentitySummary) -> String {
    let mut out = format!("identity  {}\n", summary.dir.display());
    let _ = writeln!(
        out,
        "key       {} ({})",
        summary.alg,
        if summary.key_encrypted { "passphrase-encrypted" } else { "not encrypted" }
    );
    cert_lines(&mut out, "signer", &summary.signer);
    if let Some(root) = &summary.root {
        cert_lines(&mut out, "root (share root.pem with verifiers)", root);
    }
    out
}

/// One line per trust anchor.
pub fn trust_text(anchor: &Anchor) -> String {
    format!("{}  {}  (until {})", anchor.cert.sha256, anchor.cert.subject, anchor.cert.not_after)
}

/// A public trust list: name, what it is, how many certificates, which
/// version, and which copy (updated, installed or compiled in).
pub fn trust_list_text(list: &crate::trust::lists::TrustList) -> String {
    format!(
        "{:<16} {} ({} certificates; {}; {})",
        list.name.as_str(),
        list.title,
        list.count,
        list.version,
        super::printable_str(&list.copy.words(list.file.as_deref()))
    )
}

/// A manifest store for a person. With `tree_only`, just the tree of
/// manifests and their ingredients.
pub fn inspect_text(store: &Value, tree_only: bool) -> String {
    let mut out = String::new();
    let manifests = &store["manifests"];
    let Some(active) = store["active_manifest"].as_str() else {
        return "no active manifest\n".into();
    };
    if !tree_only {
        if let Some(state) = store["validation_state"].as_str() {
            let _ = writeln!(out, "state       {}", state.to_lowercase());
        }
        let manifest = &manifests[active];
        let sig = &manifest["signature_info"];
        let field = |v: &Value| v.as_str().unwrap_or("-").to_string();
        let _ = writeln!(out, "manifest    {active}");
        let _ = writeln!(out, "title       {}", field(&manifest["title"]));
        let _ = writeln!(out, "signer      {}", field(&sig["common_name"]));
        let _ = writeln!(out, "issuer      {}", field(&sig["issuer"]));
        let _ = writeln!(out, "signed at   {}", sig["time"].as_str().unwrap_or("- (no trusted timestamp)"));
        let _ = writeln!(out, "alg         {}", codes::alg_name(&field(&sig["alg"])));
        if let Some(generator) = manifest["claim_generator_info"].as_array().and_then(|g| g.first()) {
            let _ = writeln!(
                out,
                "generator   {} {}",
                field(&generator["name"]),
                generator["version"].as_str().unwrap_or("")
            );
        }
        let _ = writeln!(out, "actions");
        for assertion in manifest["assertions"].as_array().into_iter().flatten() {
            let label = assertion["label"].as_str().unwrap_or_default();
            if !label.starts_with("c2pa.actions") {
                continue;
            }
            for action in assertion["data"]["actions"].as_array().into_iter().flatten() {
                let _ = write!(out, "  {}", field(&action["action"]));
                if let Some(dst) = action["digitalSourceType"].as_str() {
                    let _ = write!(out, " [{}]", short_source_type(dst));
                }
                out.push('\n');
            }
        }
        let _ = writeln!(out, "assertions");
        for assertion in manifest["assertions"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "  {}", assertion["label"].as_str().unwrap_or("-"));
        }
        let failures = store["validation_results"]["activeManifest"]["failure"].as_array();
        if let Some(failures) = failures.filter(|f| !f.is_empty()) {
            let _ = writeln!(out, "failures");
            for failure in failures {
                let _ = writeln!(out, "  {}  {}", field(&failure["code"]), field(&failure["explanation"]));
            }
        }
        let _ = writeln!(out, "manifest tree");
    }
    tree(&mut out, manifests, active, "", 0);
    out
}

fn tree(out: &mut String, manifests: &Value, label: &str, indent: &str, depth: usize) {
    let manifest = &manifests[label];
    let title = manifest["title"].as_str().unwrap_or("(untitled)");
    let signer = manifest["signature_info"]["common_name"].as_str().unwrap_or("unknown signer");
    let _ = writeln!(out, "{indent}{title}  [{label}] signed by {signer}");
    let ingredients = manifest["ingredients"].as_array().cloned().unwrap_or_default();
    // Manifests can reference each other; stop well before a cycle or a
    // hostile depth can blow the stack.
    if depth > 32 {
        let _ = writeln!(out, "{indent}  …");
        return;
    }
    for (i, ingredient) in ingredients.iter().enumerate() {
        let last = i + 1 == ingredients.len();
        let branch = if last { "└─ " } else { "├─ " };
        let child_indent = format!("{indent}{}", if last { "   " } else { "│  " });
        let relationship = ingredient["relationship"].as_str().unwrap_or("componentOf");
        match ingredient["active_manifest"].as_str() {
            Some(child) if manifests.get(child).is_some() => {
                let _ = write!(out, "{indent}{branch}{relationship}: ");
                let mut sub = String::new();
                tree(&mut sub, manifests, child, &child_indent, depth + 1);
                out.push_str(sub.trim_start());
            }
            _ => {
                let title = ingredient["title"].as_str().unwrap_or("(untitled)");
                let _ = writeln!(out, "{indent}{branch}{relationship}: {title}  (no manifest)");
            }
        }
    }
}

/// An OpenTimestamps proof as a tree, in the layout of `ots info`.
pub fn ots_text(proof: &DetachedTimestamp, cid: Option<&str>) -> String {
    let mut out = format!("File {} hash: {}\n", proof.file_hash_op, hex::encode(&proof.file_digest));
    if let Some(cid) = cid {
        let _ = writeln!(out, "IPFS CID: {cid}");
    }
    out.push_str("Timestamp:\n");
    ots_tree(&mut out, &proof.timestamp, 0);
    out
}

fn ots_tree(out: &mut String, timestamp: &Timestamp, indent: usize) {
    let pad = " ".repeat(indent);
    for attestation in &timestamp.attestations {
        let _ = writeln!(out, "{pad}verify {attestation}");
    }
    match timestamp.ops.as_slice() {
        [(op, next)] => {
            let _ = writeln!(out, "{pad}{op}");
            ots_tree(out, next, indent);
        }
        branches => {
            for (op, next) in branches {
                let _ = writeln!(out, "{pad} -> {op}");
                ots_tree(out, next, indent + 4);
            }
        }
    }
}

/// One line per anchored file.
pub fn anchored_text(anchored: &Anchored) -> String {
    let root = &anchored.root[..16];
    let (path, receipt) = (super::printable(&anchored.path), super::printable(&anchored.receipt));
    match (&anchored.chain, &anchored.tx_hash, anchored.block) {
        (Some(chain), Some(tx), Some(block)) => {
            format!("anchored {path} -> {receipt} (root {root}, {chain} tx {tx} in block {block})")
        }
        _ => format!("anchored {path} -> {receipt} (root {root}, {} calendar(s))", anchored.calendars.len()),
    }
}

/// One line per file whose receipt already holds for its content.
pub fn already_anchored_text(already: &crate::anchor::stamp::AlreadyAnchored) -> String {
    format!(
        "already  {} -> {} ({})",
        super::printable(&already.path),
        super::printable(&already.receipt),
        anchor_state(already.state)
    )
}

/// One line per upgraded proof.
pub fn upgrade_text(upgraded: &Upgraded) -> String {
    let state = if upgraded.complete { "complete" } else { "pending " };
    let mut line = format!("{state} {}", super::printable(&upgraded.receipt));
    if upgraded.changed {
        line.push_str("  (upgraded)");
    }
    if !upgraded.complete && !upgraded.pending.is_empty() {
        let _ = write!(line, "  waiting on {}", upgraded.pending.join(", "));
    }
    for calendar in &upgraded.skipped {
        let _ = write!(line, "\n  skipped {calendar} (not a trusted calendar; add it with --calendar)");
    }
    for why in &upgraded.rejected {
        let _ = write!(line, "\n  rejected {why}");
    }
    line
}

/// One line per capture-station event.
pub fn watch_text(event: &crate::watch::Event) -> String {
    use crate::watch::Event;
    match event {
        Event::Signed { path, output, replaced } => {
            let again = if *replaced { " (new content, signed again)" } else { "" };
            format!("signed    {} -> {}{again}", super::printable(path), super::printable(output))
        }
        Event::Recovered { path, output } => {
            format!("recovered {} -> {} (signed before a restart)", super::printable(path), super::printable(output))
        }
        Event::Anchored { files, .. } => format!("anchored  {files} file(s) in one batch"),
        Event::RecoveredReceipts { files } => format!("recovered {files} receipt(s) written before a restart"),
        Event::Failed { path, error } => {
            format!("failed    {}: {}", super::printable(path), super::printable_str(error))
        }
        Event::AnchoringFailed { error, retry_in_secs, waiting } => format!(
            "anchoring failed ({waiting} file(s) wait), retrying in {retry_in_secs}s and backing off: {}",
            super::printable_str(error)
        ),
        Event::AnchoringResumed => "anchoring works again".to_string(),
        Event::Stopped { reason, waiting } if waiting.is_empty() => {
            format!("stopped ({reason}): nothing waits to be anchored")
        }
        Event::Stopped { reason, waiting } => {
            let names: Vec<String> = waiting.iter().map(|p| super::printable(p)).collect();
            format!("stopped ({reason}): {} file(s) still wait to be anchored: {}", waiting.len(), names.join(", "))
        }
    }
}
