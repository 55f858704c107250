//! File-system primitives of the lease: the short mutex, durable writes, directory fsync.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::LeaseError;

/// How long acquire/renew/release wait for the mutex before giving up.
pub(crate) const MUTEX_WAIT: Duration = Duration::from_secs(10);

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LeaseError + '_ {
    move |source| LeaseError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An exclusive `flock` on the mutex file, released on drop (and by the kernel if the
/// process dies).
pub(crate) struct MutexGuard {
    _file: File,
}

/// Take the mutex, polling `try_lock` with a little jitter, for at most `wait`.
pub(crate) fn lock_mutex(path: &Path, wait: Duration) -> Result<MutexGuard, LeaseError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(io_err(path))?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(MutexGuard { _file: file }),
            Err(TryLockError::WouldBlock) => {
                if Instant::now() >= deadline {
                    return Err(LeaseError::MutexTimeout {
                        path: path.to_path_buf(),
                    });
                }
                std::thread::sleep(Duration::from_micros(200 + fastrand::u64(0..800)));
            }
            Err(TryLockError::Error(e)) => return Err(io_err(path)(e)),
        }
    }
}

/// Create `path` (it must not exist), write `bytes`, fsync.
pub(crate) fn write_new_synced(path: &Path, bytes: &[u8]) -> Result<(), LeaseError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))?;
    Ok(())
}

/// Rename `tmp` over `path`, which must be a regular file or absent: a device, FIFO, socket,
/// directory or symbolic link planted at a lease path is never replaced (the temporary file
/// is removed instead and the operation fails naming the path).
pub(crate) fn rename_over_regular(tmp: &Path, path: &Path) -> Result<(), LeaseError> {
    if let Err(e) = crate::report::frontmatter::check_replaceable(path) {
        let _ = fs::remove_file(tmp);
        return Err(io_err(path)(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            e.to_string(),
        )));
    }
    fs::rename(tmp, path).map_err(io_err(path))
}

/// Make renames and links in `dir` durable (best effort: not every file system supports it).
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Create the lease directory (mode 0700 for new directories).
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), LeaseError> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err(dir))
}

/// Side files of `stem` in `dir` whose name is `<stem>.<kind>.<anything>`.
pub(crate) fn side_files(dir: &Path, stem: &str, kind: &str) -> Vec<PathBuf> {
    let prefix = format!("{stem}.{kind}.");
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_over_a_fifo_is_refused_and_leaves_it() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("k.lease");
        let made = std::process::Command::new("mkfifo")
            .arg("-m")
            .arg("600")
            .arg(&target)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo {}", target.display());
        let tmp = dir.path().join("k.tmp.1");
        write_new_synced(&tmp, b"{}").unwrap();
        let e = rename_over_regular(&tmp, &target).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        assert!(fs::symlink_metadata(&target).unwrap().file_type().is_fifo());
        assert!(!tmp.exists(), "the temporary file is cleaned up");
        // A regular file (or nothing) is replaced as before.
        let other = dir.path().join("seq");
        write_new_synced(&tmp, b"7\n").unwrap();
        rename_over_regular(&tmp, &other).unwrap();
        assert_eq!(fs::read(&other).unwrap(), b"7\n");
    }
}
