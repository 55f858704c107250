//! The PostgreSQL password file (`PGPASSFILE`, else `~/.pgpass`): lines
//! `hostname:port:database:username:password`, `*` matching anything, `\:` and `\\` escaped.
//! As libpq does, a file that group or others can read is ignored.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use postgres::Config;
use postgres::config::Host;

fn pgpass_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PGPASSFILE").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(h).join(".pgpass"))
}

/// Split a line into its fields, undoing `\:` and `\\`.
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next()
                    && let Some(last) = out.last_mut()
                {
                    last.push(n);
                }
            }
            ':' => out.push(String::new()),
            c => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    out
}

/// The password for the first host, port, database and user of `config`, if the file has one.
pub(crate) fn lookup(config: &Config) -> Option<String> {
    let path = pgpass_path()?;
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        // libpq matches socket connections against "localhost".
        Some(Host::Unix(_)) | None => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let db = config.get_dbname().unwrap_or("").to_string();
    let user = config.get_user().unwrap_or("").to_string();
    let want = [host, port, db, user];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(fields)
        .find(|f| {
            f.len() == 5
                && f.iter()
                    .zip(want.iter())
                    .all(|(have, want)| have == "*" || have == want)
        })
        .map(|mut f| f.swap_remove(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_colons_and_backslashes_split_correctly() {
        assert_eq!(
            fields(r"db\:host:5432:*:u:pa\:ss\\w"),
            vec!["db:host", "5432", "*", "u", r"pa:ss\w"]
        );
    }
}
