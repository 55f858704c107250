//! `portcullis verdict PATH [--head SHA]`.

use std::path::PathBuf;

use clap::Args;

use crate::report::{Outcome, read_verdict, read_verdict_for_head};

/// `verdict` flags.
#[derive(Debug, Args)]
pub struct VerdictArgs {
    /// The report file to read.
    pub path: PathBuf,
    /// Read PASS only if the report names this commit as the one it checked (the security
    /// report's `head_commit`, the merge report's `tested_sha`); anything else is FAIL.
    #[arg(long, value_name = "SHA")]
    pub head: Option<String>,
}

/// Print the verdict read (fail-closed) from a report; exit 0 only for PASS, else 1.
pub fn run(args: VerdictArgs) -> i32 {
    let v = match &args.head {
        Some(head) => read_verdict_for_head(&args.path, head),
        None => read_verdict(&args.path),
    };
    println!("{}", v.outcome);
    for r in &v.reasons {
        eprintln!("  {r}");
    }
    if v.outcome == Outcome::Pass { 0 } else { 1 }
}
