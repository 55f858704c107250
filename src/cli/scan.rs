//! `portcullis scan dir|stdin|git`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// Scan targets.
#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// Scan files under a directory (or one file).
    Dir(DirArgs),
    /// Scan standard input.
    Stdin(StdinArgs),
    /// Scan git history (commits, ranges, staged or uncommitted changes).
    Git(super::scan_git::GitArgs),
}

/// Flags shared by every scan target.
#[derive(Debug, Clone, Args)]
pub struct ScanCommon {
    /// Config file (gitleaks v8 TOML). Default: $PORTCULLIS_CONFIG, $GITLEAKS_CONFIG,
    /// <target>/.gitleaks.toml, then the embedded default rules.
    #[arg(short = 'c', long)]
    pub config: Option<PathBuf>,
    /// Report format: json, sarif, csv or junit (default: from --report-path's extension, else json).
    #[arg(short = 'f', long)]
    pub report_format: Option<String>,
    /// Write the report here ('-' = stdout).
    #[arg(short = 'r', long)]
    pub report_path: Option<PathBuf>,
    /// Exit status when findings exist.
    #[arg(long, default_value_t = 1)]
    pub exit_code: i32,
    /// A previous JSON report: its findings are not reported again.
    #[arg(short = 'b', long)]
    pub baseline_path: Option<PathBuf>,
    /// A .gitleaksignore file, or a directory holding one.
    #[arg(short = 'i', long)]
    pub gitleaks_ignore_path: Option<PathBuf>,
    /// Redact secrets in output (optionally keep the first 100-PCT percent).
    #[arg(long, num_args = 0..=1, default_missing_value = "100", value_name = "PCT")]
    pub redact: Option<u8>,
    /// Skip inputs larger than this many megabytes.
    #[arg(long)]
    pub max_target_megabytes: Option<u64>,
    /// Decode base64/hex/percent-encoded segments up to this depth.
    #[arg(long, default_value_t = 5)]
    pub max_decode_depth: u32,
    /// Scan inside archives (zip, tar, gzip) up to this nesting depth.
    #[arg(long, default_value_t = 2)]
    pub max_archive_depth: u32,
    /// Only run these rule ids (repeatable).
    #[arg(long = "enable-rule", value_name = "ID")]
    pub enable_rule: Vec<String>,
    /// Do not honour inline `gitleaks:allow` markers.
    #[arg(long)]
    pub ignore_gitleaks_allow: bool,
    /// Print each finding to stdout.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// No progress bar, no summary.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Disable colour.
    #[arg(long)]
    pub no_color: bool,
}

/// `scan dir` flags.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// Directory or file to scan.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Follow symbolic links to files.
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Shared scan flags.
    #[command(flatten)]
    pub common: ScanCommon,
}

/// `scan stdin` flags.
#[derive(Debug, Args)]
pub struct StdinArgs {
    /// Shared scan flags.
    #[command(flatten)]
    pub common: ScanCommon,
}

/// Run a scan command.
pub fn run(cmd: ScanCommand) -> i32 {
    match cmd {
        ScanCommand::Git(a) => super::scan_git::run(a),
        ScanCommand::Dir(_) | ScanCommand::Stdin(_) => super::fail("scan dir/stdin: not built yet"),
    }
}
