//! The `vouch` binary: parse flags, dispatch to a command, map the outcome
//! to an exit code (0 passed, 1 a check failed, 2 usage or I/O error).

mod cli;

use std::process::ExitCode;

use clap::Parser;

use cli::args::{Cli, Command};

// A verify or sign run makes many small, short-lived allocations per file
// (c2pa's parse of the store, the JSON value of the record, the rubric's
// values). glibc's malloc and free were about a sixth of verify's CPU under
// perf; mimalloc takes a smaller share of it (README, "Speed").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::set_verbosity(cli.quiet, cli.verbose);
    let result = match cli.command {
        Command::Identity(command) => cli::identity(command),
        Command::Sign(args) => cli::sign(args),
        Command::Verify(args) => cli::verify(args),
        Command::Check(args) => cli::check(args),
        Command::Report(args) => cli::report(args),
        Command::Anchor(args) => cli::anchor(args),
        Command::Watch(args) => cli::watch(args),
        Command::Inspect(args) => cli::inspect(args),
        Command::Trust(command) => cli::trust(command),
        Command::Detect(args) => cli::detect(args),
        Command::Models(command) => cli::models(command),
        Command::Doctor(args) => cli::doctor(args),
        Command::Generate(command) => cli::generate(command),
    };
    match result {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            eprintln!("vouch: error: {}", vouch::report::printable_str(&vouch::redact::text(&cli::one_line(&err))));
            ExitCode::from(2)
        }
    }
}
