//! `vouch doctor`: what this install has, and what fixes what it lacks.

use anyhow::Result;
use vouch::doctor::{self, Places};
use vouch::report;

use super::args::DoctorArgs;
use super::{Outcome, Printer};

pub fn doctor(args: DoctorArgs) -> Result<Outcome> {
    let mut places = Places::current();
    if let Some(dir) = args.dir.dir {
        places.identity = dir;
    }
    let checkup = doctor::examine(&places);
    let missing = checkup.not_ok().len();
    let outcome = if checkup.ready { Outcome::Passed } else { Outcome::CheckFailed };
    let mut printer = Printer::new(args.json).summarising(&["ok", "missing or broken"], "could not be read");
    printer.record(&checkup, report::doctor_text, outcome);
    printer.summary.add("ok", checkup.pieces().len() - missing);
    printer.summary.add("missing or broken", missing);
    Ok(printer.finish())
}
