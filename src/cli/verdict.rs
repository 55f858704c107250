//! `portcullis verdict PATH`.

use std::path::PathBuf;

use clap::Args;

use crate::report::{Outcome, read_verdict};

/// `verdict` flags.
#[derive(Debug, Args)]
pub struct VerdictArgs {
    /// The report file to read.
    pub path: PathBuf,
    /// Output format: `human` (the verdict word) or `json` (one object, schema
    /// `portcullis/gate-output/v1`).
    #[arg(long, value_enum, default_value = "human")]
    pub format: super::output::OutputFormat,
}

/// Print the verdict read (fail-closed) from a report; exit 0 only for PASS, else 1.
pub fn run(args: VerdictArgs) -> i32 {
    let v = read_verdict(&args.path);
    if args.format == super::output::OutputFormat::Json {
        let code = if v.outcome == Outcome::Pass { 0 } else { 1 };
        super::output::print_json(&super::output::verdict_json(
            "verdict",
            &v,
            Some(&args.path),
            code,
        ));
        return code;
    }
    println!("{}", v.outcome);
    for r in &v.reasons {
        eprintln!("  {r}");
    }
    if v.outcome == Outcome::Pass { 0 } else { 1 }
}
