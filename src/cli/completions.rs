//! `portcullis completions SHELL` and `portcullis man`: shell completion scripts and man pages
//! generated from the command-line definition itself, so they never drift from it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;

/// `completions` flags.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to generate the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `man` flags.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command into this directory (`portcullis.1`, `portcullis-scan.1`,
    /// `portcullis-scan-git.1`, ...) instead of printing the main page on stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Print the completion script for `args.shell` on stdout.
pub fn run_completions(args: &CompletionsArgs) -> i32 {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "portcullis", &mut out);
    write_stdout(&out)
}

/// Print the main man page, or write every page into `--dir`.
pub fn run_man(args: &ManArgs) -> i32 {
    let cmd = Cli::command();
    match &args.dir {
        None => match render_page(cmd) {
            Ok(page) => write_stdout(&page),
            Err(e) => super::fail(format_args!("man page: {e}")),
        },
        Some(dir) => match write_pages(cmd, dir) {
            Ok(n) => {
                eprintln!("portcullis: wrote {n} man pages to {}", dir.display());
                0
            }
            Err(e) => super::fail(e),
        },
    }
}

fn write_stdout(bytes: &[u8]) -> i32 {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => 0,
        // `portcullis man | head`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => super::fail(format_args!("stdout: {e}")),
    }
}

/// The roff text of one command's page.
fn render_page(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page)?;
    Ok(page)
}

/// Every command with the name its page gets (`portcullis`, `portcullis-scan`, ...).
pub fn man_pages(cmd: clap::Command) -> Vec<(String, clap::Command)> {
    fn walk(cmd: clap::Command, name: String, out: &mut Vec<(String, clap::Command)>) {
        let subs: Vec<clap::Command> = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            .cloned()
            .collect();
        // After `build`, clap names a subcommand's page `portcullis-scan-git` (display name).
        out.push((name.clone(), cmd));
        for s in subs {
            let sub_name = format!("{name}-{}", s.get_name());
            walk(s, sub_name, out);
        }
    }
    let mut cmd = cmd;
    cmd.build();
    let mut out = Vec::new();
    walk(cmd, "portcullis".to_string(), &mut out);
    out
}

fn write_pages(cmd: clap::Command, dir: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let pages = man_pages(cmd);
    for (name, cmd) in &pages {
        let path = dir.join(format!("{name}.1"));
        let page = render_page(cmd.clone()).map_err(|e| format!("{}: {e}", path.display()))?;
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(format!(
                "{}: exists and is not a regular file; not replaced",
                path.display()
            ));
        }
        crate::report::frontmatter::write_atomic(&path, &page).map_err(|e| e.to_string())?;
    }
    Ok(pages.len())
}
