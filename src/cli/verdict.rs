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
    /// Output format: `human` (the verdict word) or `json` (one object, schema
    /// `portcullis/gate-output/v1`).
    #[arg(long, value_enum, default_value = "human")]
    pub format: super::output::OutputFormat,
}

/// Print the verdict read (fail-closed) from a report; exit 0 only for PASS, else 1.
pub fn run(args: VerdictArgs) -> i32 {
    let v = match &args.head {
        Some(head) => read_verdict_for_head(&args.path, head),
        None => read_verdict(&args.path),
    };
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
