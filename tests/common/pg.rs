//! A throw-away PostgreSQL cluster on a loopback port, from Debian's `initdb` and
//! `pg_ctl` (run as the `postgres` user when the tests run as root), as `pytests/pg.py`
//! does for the Python tests. `None` (and a message) only when the binaries are missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct PgCluster {
    root: PathBuf,
    pub port: u16,
    /// Extra server options (`-c ssl=on …` for a TLS cluster).
    extra: String,
}

fn bin(name: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl PgCluster {
    /// Starts a new cluster (trust authentication, fsync off), or `None` without the binaries.
    pub fn start(tag: &str) -> Option<Self> {
        let (Some(initdb), Some(_)) = (bin("initdb"), bin("pg_ctl")) else {
            eprintln!(
                "SKIPPED: PostgreSQL binaries (/usr/lib/postgresql/*/bin/initdb) are not installed"
            );
            return None;
        };
        let root = std::env::temp_dir().join(format!(
            "orp-pg-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&root).unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&root)
                .status()
                .unwrap();
            assert!(ok.success(), "chown of {}", root.display());
        }
        let out = as_postgres(&initdb)
            .arg("-D")
            .arg(root.join("data"))
            .args(["-U", "postgres", "--auth=trust", "--no-sync"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = Self {
            root,
            port: super::free_port(),
            extra: String::new(),
        };
        cluster.pg_ctl("start");
        Some(cluster)
    }

    /// A cluster that also accepts TLS, with a certificate for `localhost` only, signed
    /// by a throw-away CA (made with the `openssl` command). Returns the CA's PEM file.
    pub fn start_tls(tag: &str) -> Option<(Self, PathBuf)> {
        Self::start_tls_with(tag, false)
    }

    /// [`PgCluster::start_tls`], and with `client_auth` the role `certuser` may only log in
    /// over TLS with a client certificate signed by the same CA (`client.crt`/`client.key`
    /// beside the CA file, CN `certuser`); other roles keep trust authentication.
    pub fn start_tls_with(tag: &str, client_auth: bool) -> Option<(Self, PathBuf)> {
        let mut cluster = Self::start(tag)?;
        cluster.stop();
        let dir = cluster.root.clone();
        super::certs::make(&dir, client_auth.then_some("certuser"));
        if is_root() {
            for f in ["server.key", "server.crt"] {
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(dir.join(f))
                    .status()
                    .unwrap();
            }
        }
        Command::new("chmod")
            .arg("600")
            .arg(dir.join("server.key"))
            .status()
            .unwrap();
        cluster.extra = format!(
            "-c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
            dir.display()
        );
        if client_auth {
            if is_root() {
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(dir.join("ca.crt"))
                    .status()
                    .unwrap();
            }
            cluster
                .extra
                .push_str(&format!(" -c ssl_ca_file={}/ca.crt", dir.display()));
            let hba = dir.join("data").join("pg_hba.conf");
            let rest = std::fs::read_to_string(&hba).unwrap();
            std::fs::write(
                &hba,
                format!("hostssl all certuser 127.0.0.1/32 cert\nhost all certuser 127.0.0.1/32 reject\n{rest}"),
            )
            .unwrap();
        }
        cluster.start_again();
        if client_auth {
            cluster.psql("CREATE ROLE certuser LOGIN SUPERUSER");
        }
        Some((cluster, dir.join("ca.crt")))
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 {}",
            self.port,
            self.root.display(),
            self.extra
        );
        let mut cmd = as_postgres(&bin("pg_ctl").unwrap());
        cmd.arg("-D").arg(self.root.join("data"));
        match action {
            "stop" => {
                cmd.args(["-m", "fast", "-w", "stop"]);
            }
            _ => {
                cmd.arg("-l")
                    .arg(self.root.join("server.log"))
                    .args(["-o", &options, "-w", action]);
            }
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success() || action == "stop",
            "pg_ctl {action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if action != "stop" {
            let deadline = Instant::now() + Duration::from_secs(30);
            while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                assert!(Instant::now() < deadline, "PostgreSQL did not start");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// A URL of the `postgres` database as the superuser.
    pub fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: sessions are disconnected).
    pub fn stop(&self) {
        self.pg_ctl("stop");
    }

    /// Starts it again after [`PgCluster::stop`].
    pub fn start_again(&self) {
        self.pg_ctl("start");
    }

    /// Runs SQL with `psql` (the test's own view of the database, not the crate's).
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new(bin("psql").unwrap())
            .args([
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                sql,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let mut cmd = as_postgres(&bin("pg_ctl").unwrap());
        let _ = cmd
            .arg("-D")
            .arg(self.root.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
