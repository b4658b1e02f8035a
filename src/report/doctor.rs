//! `vouch doctor` for people: one screen, one line per piece, what fixes
//! what is missing right under it.

use std::fmt::Write as _;

use crate::doctor::{Checkup, Standing, Status};

use super::printable;

fn word(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Missing => "MISSING",
        Status::Broken => "BROKEN",
    }
}

/// The piece's line, and under it its problem and fix when it has them.
fn piece(out: &mut String, name: &str, standing: &Standing, found: &str) {
    let _ = writeln!(out, "{name:<14} {:<8} {found}", word(standing.status));
    if let Some(problem) = &standing.problem {
        let _ = writeln!(out, "{:<23}{}", "", super::printable_str(problem));
    }
    if let Some(fix) = &standing.fix {
        let _ = writeln!(out, "{:<23}fix: {fix}", "");
    }
}

pub fn doctor_text(c: &Checkup) -> String {
    let mut out = String::new();
    let runtime = match (&c.onnx_runtime.version, &c.onnx_runtime.path) {
        (Some(version), Some(path)) => format!("{version}  {}", printable(path)),
        (None, Some(path)) => printable(path),
        _ => "not found".into(),
    };
    piece(&mut out, "ONNX Runtime", &c.onnx_runtime.standing, &runtime);
    let ffmpeg: Vec<String> = c.ffmpeg.libraries.iter().map(|l| format!("{} {}", l.name, l.version)).collect();
    piece(&mut out, "FFmpeg", &c.ffmpeg.standing, &ffmpeg.join(", "));
    piece(
        &mut out,
        "models",
        &c.models.standing,
        &format!("{} (default {})", printable(&c.models.dir), c.models.default_model),
    );
    let _ = writeln!(out, "{:<23}{}", "", super::printable_str(&c.models.found_by));
    for card in &c.models.cards {
        let weights = match (&card.standing.status, &card.sha256) {
            (Status::Ok, Some(sha)) => format!("weights match SHA-256 {}…", &sha[..sha.len().min(16)]),
            _ => String::new(),
        };
        let name = if card.name.is_empty() { printable(&card.card) } else { card.name.clone() };
        let _ = writeln!(out, "  {name:<20} {:<8} {weights}", word(card.standing.status));
        if let Some(problem) = &card.standing.problem {
            let _ = writeln!(out, "{:<32}{}", "", super::printable_str(problem));
        }
    }
    let lists = c.trust_lists.lists.iter().map(|l| l.count).sum::<usize>();
    piece(
        &mut out,
        "trust lists",
        &c.trust_lists.standing,
        &format!("{} lists, {lists} certificates", c.trust_lists.lists.len()),
    );
    for list in &c.trust_lists.lists {
        let _ = writeln!(
            out,
            "  {:<20} {:>4} certificates, {}; {}",
            list.name,
            list.count,
            list.version,
            super::printable_str(&list.copy.words(list.file.as_deref()))
        );
    }
    let identity = match (&c.identity.signer, &c.identity.expires) {
        (Some(signer), Some(expires)) => format!(
            "{}  signer {signer}, expires {expires}{}",
            printable(&c.identity.dir),
            if c.identity.key_encrypted == Some(true) { ", key encrypted" } else { "" }
        ),
        _ => printable(&c.identity.dir),
    };
    piece(&mut out, "identity", &c.identity.standing, &identity);
    let not_ok = c.not_ok();
    if not_ok.is_empty() {
        out.push_str("\nvouch has everything it needs.");
    } else {
        let names: Vec<&str> = not_ok.iter().map(|(name, _)| *name).collect();
        let _ = write!(out, "\nmissing or broken: {} (each with its fix above)", names.join(", "));
    }
    out
}
