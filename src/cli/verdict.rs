//! `portcullis verdict PATH`.

use std::path::PathBuf;

use clap::Args;

use crate::report::{Outcome, read_verdict};

/// `verdict` flags.
#[derive(Debug, Args)]
pub struct VerdictArgs {
    /// The report file to read.
    pub path: PathBuf,
}

/// Print the verdict read (fail-closed) from a report; exit 0 only for PASS, else 1.
pub fn run(args: VerdictArgs) -> i32 {
    let v = read_verdict(&args.path);
    println!("{}", v.outcome);
    for r in &v.reasons {
        eprintln!("  {r}");
    }
    if v.outcome == Outcome::Pass { 0 } else { 1 }
}
