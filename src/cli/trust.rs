//! `vouch trust`: local anchors (add, list, remove) and the public lists
//! (list, update).

use anyhow::Result;
use vouch::report;
use vouch::trust::{self as trust_store, lists};

use super::args::TrustCommand;
use vouch::home;

use super::{Outcome, Printer};

pub fn trust(command: TrustCommand) -> Result<Outcome> {
    let store = home::trust_dir();
    let mut printer = Printer::new(false);
    match command {
        TrustCommand::Add { pem } => {
            for anchor in trust_store::add(&store, &pem)? {
                printer.line(&format!("trusted  {}", report::trust_text(&anchor)));
                printer.count("anchor(s) added");
            }
        }
        TrustCommand::List { json } => {
            printer.json = json;
            for anchor in trust_store::list(&store)? {
                printer.record(&anchor, report::trust_text, Outcome::Passed);
                printer.count("local anchor(s)");
            }
            for list in lists::load_all(&home::trust_lists_dir())? {
                printer.record(&list, report::trust_list_text, Outcome::Passed);
                printer.count("public list(s)");
            }
        }
        TrustCommand::Remove { fingerprint } => {
            let anchor = trust_store::remove(&store, &fingerprint)?;
            printer.line(&format!("removed  {}", report::trust_text(&anchor)));
            printer.count("anchor removed");
        }
        TrustCommand::Update { list, file } => {
            let updated = lists::update(&home::trust_lists_dir(), list, &file)?;
            printer.line(&format!("updated  {}", report::trust_list_text(&updated)));
            if let Some(stored) = &updated.file {
                printer.line(&format!("stored   {}", stored.display()));
            }
            printer.line(&format!("official list: {}", list.published_at()));
            printer.count("list updated");
        }
    }
    Ok(printer.finish())
}
