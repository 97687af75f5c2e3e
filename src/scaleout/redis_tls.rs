//! TLS settings written into a `rediss://` URL the way Open WebUI's own Redis client
//! (redis-py) reads them, so the `REDIS_URL` an admin already has works here unchanged:
//! `ssl_ca_certs=<PEM file>` (a private CA), `ssl_certfile=` / `ssl_keyfile=` (a client
//! certificate), `ssl_cert_reqs=none` (no verification; redis-rs spells it `#insecure`).
//! They are taken out of the URL before redis-rs reads it.

use std::path::PathBuf;

use url::Url;

/// What a `rediss://` URL asks of TLS beyond the system's roots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Trust these CA certificates (PEM) instead of the system's.
    pub ca_certs: Option<PathBuf>,
    /// Present this client certificate (PEM), with `key_file`.
    pub cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub key_file: Option<PathBuf>,
    /// Do not verify the server's certificate (`ssl_cert_reqs=none`).
    pub insecure: bool,
}

impl TlsOptions {
    /// Whether anything beyond the defaults is asked for.
    pub fn is_custom(&self) -> bool {
        self.ca_certs.is_some() || self.cert_file.is_some()
    }
}

const NAMES: [&str; 4] = [
    "ssl_ca_certs",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_cert_reqs",
];

/// `url` without the TLS query parameters (and with `#insecure` when verification is
/// off), and the options they gave. Other URLs come back as they are.
pub fn split(url: &str) -> (String, TlsOptions) {
    let Ok(mut parsed) = Url::parse(url.trim()) else {
        return (url.to_owned(), TlsOptions::default());
    };
    if parsed.scheme() != "rediss" {
        return (url.to_owned(), TlsOptions::default());
    }
    let mut options = TlsOptions::default();
    let mut kept: Vec<(String, String)> = Vec::new();
    for (key, value) in parsed.query_pairs() {
        let value = value.trim().to_owned();
        match key.as_ref() {
            "ssl_ca_certs" if !value.is_empty() => options.ca_certs = Some(value.into()),
            "ssl_certfile" if !value.is_empty() => options.cert_file = Some(value.into()),
            "ssl_keyfile" if !value.is_empty() => options.key_file = Some(value.into()),
            "ssl_cert_reqs" => {
                options.insecure = matches!(
                    value.to_ascii_lowercase().as_str(),
                    "none" | "cert_none" | "false" | "0"
                )
            }
            k if NAMES.contains(&k) => {}
            _ => kept.push((key.into_owned(), value)),
        }
    }
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    if options.insecure {
        parsed.set_fragment(Some("insecure"));
    }
    (parsed.to_string(), options)
}

/// The certificates [`TlsOptions`] names, read from their files.
pub fn certificates(options: &TlsOptions) -> Result<redis::TlsCertificates, String> {
    let read = |path: &PathBuf, what: &str| {
        std::fs::read(path)
            .map_err(|e| format!("cannot read the Redis {what} {}: {e}", path.display()))
    };
    let root_cert = options
        .ca_certs
        .as_ref()
        .map(|p| read(p, "CA file (ssl_ca_certs)"))
        .transpose()?;
    let client_tls = match (&options.cert_file, &options.key_file) {
        (Some(cert), Some(key)) => Some(redis::ClientTlsConfig {
            client_cert: read(cert, "client certificate (ssl_certfile)")?,
            client_key: read(key, "client key (ssl_keyfile)")?,
        }),
        (Some(cert), None) => {
            // redis-py reads the key from the certificate file when no key file is named.
            let pem = read(cert, "client certificate (ssl_certfile)")?;
            Some(redis::ClientTlsConfig {
                client_cert: pem.clone(),
                client_key: pem,
            })
        }
        _ => None,
    };
    Ok(redis::TlsCertificates {
        client_tls,
        root_cert,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_py_tls_parameters_are_read_and_taken_out() {
        let (url, options) = split(
            "rediss://:pw@cache.internal:6380/1?ssl_ca_certs=/etc/ca.pem&protocol=resp3\
             &ssl_certfile=/etc/c.pem&ssl_keyfile=/etc/k.pem",
        );
        assert_eq!(url, "rediss://:pw@cache.internal:6380/1?protocol=resp3");
        assert_eq!(options.ca_certs, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(options.cert_file, Some(PathBuf::from("/etc/c.pem")));
        assert_eq!(options.key_file, Some(PathBuf::from("/etc/k.pem")));
        assert!(!options.insecure && options.is_custom());
        let (url, options) = split("rediss://h:6380/0?ssl_cert_reqs=none");
        assert_eq!(url, "rediss://h:6380/0#insecure");
        assert!(options.insecure && !options.is_custom());
        let (url, options) = split("redis://h:6379/0?ssl_ca_certs=/x");
        assert_eq!(
            url, "redis://h:6379/0?ssl_ca_certs=/x",
            "plain Redis is left alone"
        );
        assert_eq!(options, TlsOptions::default());
    }

    #[test]
    fn a_missing_certificate_file_is_named() {
        let options = TlsOptions {
            ca_certs: Some("/nonexistent/ca.pem".into()),
            ..TlsOptions::default()
        };
        let err = certificates(&options).unwrap_err();
        assert!(
            err.contains("ssl_ca_certs") && err.contains("/nonexistent/ca.pem"),
            "{err}"
        );
    }
}
