//! A throwaway PostgreSQL server for the lease tests: `initdb` + `pg_ctl` in a temporary
//! directory, listening on 127.0.0.1 on a free port (and a socket in that directory).
//!
//! `PORTCULLIS_TEST_PG_URL` names an existing server instead (for [`shared_url`]). Without
//! it the binaries are looked up in `PORTCULLIS_TEST_PG_BIN`, `/usr/lib/postgresql/*/bin`
//! (highest version) or `PATH`; a server that cannot start FAILS the test, never skips it.
//! Running as root, the server runs as the `postgres` user (else `nobody`) via `runuser`,
//! because PostgreSQL refuses to run as root. A watchdog process stops the server and
//! deletes its directory when the test process exits, however it exits.
#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Super-user of the throwaway cluster.
pub const SUPERUSER: &str = "lease_test_admin";

/// One running cluster.
pub struct PgServer {
    /// Where the cluster lives (data directory `data`, socket, log).
    pub dir: PathBuf,
    /// The server binaries.
    pub bin: PathBuf,
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// The super-user's password.
    pub password: String,
    /// User the server runs as, when the tests run as root.
    pub run_as: Option<String>,
    own_dir: bool,
}

fn is_root() -> bool {
    portcullis_unsafe::process::euid() == 0
}

fn bin_dir() -> PathBuf {
    if let Some(b) = std::env::var_os("PORTCULLIS_TEST_PG_BIN") {
        return PathBuf::from(b);
    }
    let mut best: Option<(u32, PathBuf)> = None;
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        for e in rd.flatten() {
            let bin = e.path().join("bin");
            let v = e.file_name().to_string_lossy().parse::<u32>().unwrap_or(0);
            if bin.join("initdb").exists() && best.as_ref().is_none_or(|(bv, _)| v > *bv) {
                best = Some((v, bin));
            }
        }
    }
    if let Some((_, b)) = best {
        return b;
    }
    for p in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if p.join("initdb").exists() && p.join("pg_ctl").exists() {
            return p;
        }
    }
    panic!(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL \
         (apt-get install postgresql) or set PORTCULLIS_TEST_PG_BIN or PORTCULLIS_TEST_PG_URL"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn user_exists(name: &str) -> bool {
    Command::new("id")
        .arg("-u")
        .arg(name)
        .output()
        .is_ok_and(|o| o.status.success())
}

impl PgServer {
    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        self.command(tool)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"))
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// Create and start a new cluster. `trust`: no passwords on 127.0.0.1 (cheaper
    /// connections for the stress test); else SCRAM passwords on TCP.
    pub fn start(trust: bool) -> PgServer {
        let bin = bin_dir();
        let run_as = if is_root() {
            Some(
                if user_exists("postgres") {
                    "postgres"
                } else {
                    "nobody"
                }
                .to_string(),
            )
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("portcullis-pg-")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let password = format!("pw{:016x}", fastrand::u64(..));
        let pwfile = dir.join("pwfile");
        std::fs::write(&pwfile, format!("{password}\n")).unwrap();
        if let Some(user) = &run_as {
            let st = Command::new("chown")
                .arg("-R")
                .arg(format!("{user}:"))
                .arg(&dir)
                .status()
                .unwrap();
            assert!(st.success(), "chown of the cluster directory failed");
        }
        let server = PgServer {
            dir: dir.clone(),
            bin,
            port: free_port(),
            password,
            run_as,
            own_dir: true,
        };
        let data = server.data();
        let pw_arg = format!("--pwfile={}", pwfile.display());
        let auth_host = if trust { "trust" } else { "scram-sha-256" };
        let out = server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                SUPERUSER,
                &pw_arg,
                "--auth-local=trust",
                &format!("--auth-host={auth_host}"),
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        server.watchdog();
        server.pg_ctl_start();
        server
    }

    fn pg_ctl_start(&self) {
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories={} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log").display().to_string();
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &opts,
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Stop the server (fast shutdown: open sessions are ended) and start it again.
    pub fn restart(&self) {
        let out = self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
        assert!(out.status.success(), "pg_ctl stop failed");
        self.pg_ctl_start();
    }

    /// Stop the server now and remove its directory.
    pub fn stop(&self) {
        let _ = self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
        if self.own_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// A background shell that stops the server and removes its directory once this test
    /// process is gone (also after a SIGKILL or a panic).
    fn watchdog(&self) {
        let stop = format!(
            "{} {} -D {} -m immediate -w stop",
            self.run_as
                .as_ref()
                .map(|u| format!("runuser -u {u} --"))
                .unwrap_or_default(),
            self.bin.join("pg_ctl").display(),
            self.data()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; \
             rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        // Deliberately not waited for: it outlives this process to clean up after it.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the cluster watchdog");
    }

    /// `postgres://SUPERUSER:PASSWORD@127.0.0.1:PORT/postgres`.
    pub fn url_with_password(&self) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/postgres?sslmode=disable",
            self.password, self.port
        )
    }

    /// The URL without the password (for `PGPASSFILE`/`PGPASSWORD` tests).
    pub fn url_without_password(&self) -> String {
        format!(
            "postgres://{SUPERUSER}@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// Run SQL as the super-user with `psql` (over the socket); returns stdout.
    pub fn psql(&self, sql: &str) -> String {
        let out = self.run(
            "psql",
            &[
                "-h",
                &self.dir.display().to_string(),
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-c",
                sql,
            ],
        );
        assert!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

static SHARED: OnceLock<String> = OnceLock::new();
static SHARED_SERVER: OnceLock<PgServer> = OnceLock::new();

/// The shared test server's URL (with its password): `PORTCULLIS_TEST_PG_URL`, else one
/// cluster started for this test process. Tests isolate themselves by unique lease keys.
pub fn shared_url() -> String {
    SHARED
        .get_or_init(|| {
            if let Some(u) = std::env::var("PORTCULLIS_TEST_PG_URL")
                .ok()
                .filter(|u| !u.is_empty())
            {
                return u;
            }
            SHARED_SERVER
                .get_or_init(|| PgServer::start(false))
                .url_with_password()
        })
        .clone()
}

/// The shared server when this process started it (`None` with `PORTCULLIS_TEST_PG_URL`).
pub fn shared_server() -> Option<&'static PgServer> {
    shared_url();
    SHARED_SERVER.get()
}

/// A lease key no other test uses.
pub fn unique_key(name: &str) -> String {
    format!("pg-test.example/{name}/{:016x}", fastrand::u64(..))
}

/// Whether `p` exists (helper for assertions on files).
pub fn exists(p: &Path) -> bool {
    p.exists()
}
