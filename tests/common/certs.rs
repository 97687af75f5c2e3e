//! Throw-away TLS certificates for the PostgreSQL and Redis TLS tests, made with the
//! `openssl` command: a CA, a server certificate for `localhost`, and optionally a client
//! certificate, all signed by that CA and valid for two days.

use std::path::Path;
use std::process::Command;

/// Runs `openssl` in `dir`; panics with its error output when it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether the `openssl` command is installed.
pub fn have_openssl() -> bool {
    Command::new("openssl").arg("version").output().is_ok()
}

/// Writes `ca.crt`/`ca.key`, `server.crt`/`server.key` (for `localhost`) and, with
/// `client_cn`, `client.crt`/`client.key` into `dir`.
pub fn make(dir: &Path, client_cn: Option<&str>) {
    #[rustfmt::skip]
    openssl(dir, &[
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-subj", "/CN=orp-test-ca", "-days", "2",
    ]);
    sign(
        dir,
        "server",
        "localhost",
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    );
    if let Some(cn) = client_cn {
        sign(
            dir,
            "client",
            cn,
            "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
        );
    }
}

/// `<name>.key` and `<name>.crt` for `cn`, signed by the CA in `dir`, with `extensions`.
fn sign(dir: &Path, name: &str, cn: &str, extensions: &str) {
    let (key, csr, crt, ext) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
        format!("{name}.ext"),
    );
    let subject = format!("/CN={cn}");
    #[rustfmt::skip]
    openssl(dir, &[
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj", &subject,
    ]);
    std::fs::write(dir.join(&ext), extensions).unwrap();
    #[rustfmt::skip]
    openssl(dir, &[
        "x509", "-req", "-in", &csr, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", &crt, "-days", "2", "-extfile", &ext,
    ]);
}
