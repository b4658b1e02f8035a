//! `vouch identity`: create, show or import the signing identity.

use anyhow::Result;
use vouch::identity::{self, NewIdentity};
use vouch::report;

use super::args::IdentityCommand;
use super::setup::{identity_dir, passphrase};
use super::{Outcome, Printer};

pub fn identity(command: IdentityCommand) -> Result<Outcome> {
    let (summary, json, done) = match command {
        IdentityCommand::New(a) => {
            let dir = identity_dir(a.dir.dir);
            let request = NewIdentity { name: a.name, org: a.org, email: a.email, days: a.days };
            let pass = passphrase(&a.passphrase)?;
            (identity::create(&dir, &request, pass.as_ref())?, a.json, "identity created")
        }
        IdentityCommand::Show(a) => (identity::show(&identity_dir(a.dir.dir))?, a.json, "identity shown"),
        IdentityCommand::Import(a) => {
            let dir = identity_dir(a.dir.dir);
            let pass = passphrase(&a.passphrase)?;
            (identity::import(&dir, &a.cert, &a.key, pass.as_ref())?, a.json, "identity imported")
        }
    };
    let mut printer = Printer::new(json);
    printer.record(&summary, |s| report::identity_text(s).trim_end().to_string(), Outcome::Passed);
    printer.count(done);
    Ok(printer.finish())
}
