//! `vouch models`: the detection models installed, and whether one loads.

use anyhow::Result;
use vouch::detect;
use vouch::report;

use super::args::ModelsCommand;
use super::{Outcome, Printer};

pub fn models(command: ModelsCommand) -> Result<Outcome> {
    match command {
        ModelsCommand::List { json } => {
            let dir = detect::models_dir();
            let mut printer = Printer::new(json);
            for listing in detect::list_models(&dir)? {
                match listing {
                    Ok(m) => {
                        printer.record(&m, report::model_list_text, Outcome::Passed);
                        printer.count("model(s)");
                    }
                    Err(e) => printer.error(&dir, &e),
                }
            }
            Ok(printer.finish())
        }
        ModelsCommand::Check { card, json } => {
            let card = detect::card::find(&card, &detect::models_dir())?;
            let info = detect::infer::check(card)?;
            let mut printer = Printer::new(json);
            printer.record(&info, report::model_check_text, Outcome::Passed);
            printer.count("model checked");
            Ok(printer.finish())
        }
    }
}
