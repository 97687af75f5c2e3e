//! Which PostgreSQL server and database the artifacts go to, from the URL forms Open
//! WebUI accepts (`postgresql://`, `postgres://`, driver-suffixed `postgresql+psycopg://`
//! and `postgresql+psycopg2://`, percent-encoded user and password, `?sslmode=…` and
//! the other libpq query options, unix-socket hosts) and from Open WebUI's
//! `DATABASE_TYPE`/`USER`/`PASSWORD`/`HOST`/`PORT`/`NAME` variables, assembled by its own
//! recipe. Sans-IO: strings in, a [`PgTarget`] out.
//!
//! The password never leaves this module in plain text except through
//! [`PgTarget::password`] (used to log in): `Debug`, [`PgTarget::redacted`] and every
//! [`TargetError`] leave it out.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How TLS is used, with libpq's meaning of each `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Plain TCP only.
    Disable,
    /// TLS when the server offers it, else plain (libpq's default; `allow` reads as this).
    #[default]
    Prefer,
    /// TLS or fail; the certificate is not checked.
    Require,
    /// TLS with a certificate signed by a trusted CA (any host name).
    VerifyCa,
    /// TLS with a trusted certificate issued for the host name.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, TargetError> {
        Ok(match value.trim().to_ascii_lowercase().as_str() {
            "disable" => Self::Disable,
            "allow" | "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => return Err(TargetError(format!("unknown sslmode {other:?}"))),
        })
    }
}

/// One server address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgHost {
    /// A host name or IP address, and its port.
    Tcp(String, u16),
    /// A directory holding the server's unix socket, and the port in the socket name.
    Socket(PathBuf, u16),
}

/// A URL or set of variables that does not name a usable PostgreSQL database. The
/// message never contains the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError(pub String);

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid PostgreSQL URL: {}", self.0)
    }
}

impl std::error::Error for TargetError {}

/// Default wait for a TCP/TLS connection and the login.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_PORT: u16 = 5432;

/// Everything needed to connect to one PostgreSQL database.
#[derive(Clone, PartialEq, Eq)]
pub struct PgTarget {
    /// Servers tried in order (libpq's multi-host form).
    pub hosts: Vec<PgHost>,
    /// The role logged in as.
    pub user: String,
    password: Option<String>,
    /// The database.
    pub dbname: String,
    /// TLS use.
    pub ssl_mode: SslMode,
    /// A PEM file of CA certificates to trust instead of the system's (`sslrootcert`).
    pub ssl_root_cert: Option<PathBuf>,
    /// A client certificate (PEM chain) to present (`sslcert`), with `ssl_key`.
    pub ssl_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM, `sslkey`).
    pub ssl_key: Option<PathBuf>,
    /// Connect and login timeout (`connect_timeout`, seconds).
    pub connect_timeout: Duration,
    /// `application_name` shown in `pg_stat_activity`.
    pub application_name: String,
    /// Server options (`options`, e.g. `-c search_path=artifacts`).
    pub options: Option<String>,
}

impl fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// True for the URL schemes that name PostgreSQL (`postgresql`, `postgres`, with or
/// without a `+driver` suffix).
pub fn is_postgres_url(url: &str) -> bool {
    scheme_of(url).is_some_and(|s| {
        let base = s.split('+').next().unwrap_or("");
        base.eq_ignore_ascii_case("postgresql") || base.eq_ignore_ascii_case("postgres")
    })
}

fn scheme_of(url: &str) -> Option<&str> {
    let (scheme, _) = url.trim().split_once("://")?;
    scheme
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        .then_some(scheme)
}

impl PgTarget {
    /// Parses a PostgreSQL URL in any form Open WebUI (SQLAlchemy) accepts.
    pub fn parse(url: &str) -> Result<Self, TargetError> {
        let url = url.trim();
        if !is_postgres_url(url) {
            return Err(TargetError("the scheme is not postgresql://".into()));
        }
        let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
        let (before_query, query) = match rest.find('?') {
            Some(q) => (&rest[..q], &rest[q + 1..]),
            None => (rest, ""),
        };
        // The last `@` ends the user part, so a password with an unencoded `@` still works.
        let (userinfo, after_user) = match before_query.rfind('@') {
            Some(at) => (Some(&before_query[..at]), &before_query[at + 1..]),
            None => (None, before_query),
        };
        let (hostlist, dbname) = match after_user.find('/') {
            Some(slash) => (&after_user[..slash], &after_user[slash + 1..]),
            None => (after_user, ""),
        };
        let mut target = Self {
            hosts: Vec::new(),
            user: String::new(),
            password: None,
            dbname: decode(dbname, "database name")?,
            ssl_mode: SslMode::default(),
            ssl_root_cert: None,
            ssl_cert: None,
            ssl_key: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            application_name: "openrouter_pipe".into(),
            options: None,
        };
        if let Some(info) = userinfo {
            let (user, password) = match info.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (info, None),
            };
            target.user = decode(user, "user name")?;
            target.password = password.map(|p| decode(p, "password")).transpose()?;
        }
        let mut query_hosts: Vec<String> = Vec::new();
        let mut query_port: Option<u16> = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(key, "query option")?;
            let value = decode(value, "query option")?;
            match key.as_str() {
                "sslmode" | "ssl_mode" => target.ssl_mode = SslMode::parse(&value)?,
                "sslrootcert" => target.ssl_root_cert = Some(PathBuf::from(value)),
                "sslcert" => target.ssl_cert = Some(PathBuf::from(value)),
                "sslkey" => target.ssl_key = Some(PathBuf::from(value)),
                "host" => query_hosts.extend(value.split(',').map(str::to_string)),
                "port" => query_port = Some(parse_port(&value)?),
                "user" => target.user = value,
                "password" => target.password = Some(value),
                "dbname" | "database" => target.dbname = value,
                "connect_timeout" => {
                    let secs: f64 = value
                        .trim()
                        .parse()
                        .map_err(|_| TargetError("connect_timeout is not a number".into()))?;
                    if secs.is_finite() && secs > 0.0 {
                        target.connect_timeout = Duration::from_secs_f64(secs.max(1.0));
                    }
                }
                "application_name" => target.application_name = value,
                "options" => target.options = Some(value).filter(|o| !o.trim().is_empty()),
                // Driver and pool options (client_encoding, pool_size, …) concern
                // SQLAlchemy's connection, not this one.
                _ => {}
            }
        }
        let mut hosts = split_hosts(&decode(hostlist, "host")?)?;
        if !query_hosts.is_empty() {
            let port = query_port
                .or_else(|| hosts.first().map(|h| h.1))
                .unwrap_or(DEFAULT_PORT);
            hosts = query_hosts
                .iter()
                .filter(|h| !h.trim().is_empty())
                .map(|h| (h.trim().to_string(), port))
                .collect();
        } else if let Some(port) = query_port {
            hosts.iter_mut().for_each(|h| h.1 = port);
        }
        if hosts.is_empty() {
            hosts.push(("localhost".into(), query_port.unwrap_or(DEFAULT_PORT)));
        }
        target.hosts = hosts
            .into_iter()
            .map(|(h, port)| {
                if h.starts_with('/') {
                    PgHost::Socket(PathBuf::from(h), port)
                } else {
                    PgHost::Tcp(h, port)
                }
            })
            .collect();
        if target.user.is_empty() {
            target.user = "postgres".into();
        }
        if target.dbname.is_empty() {
            target.dbname = target.user.clone();
        }
        Ok(target)
    }

    /// The password to log in with, if any.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The URL with the password replaced by `***`: safe for logs and error cards.
    pub fn redacted(&self) -> String {
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .map(|h| match h {
                PgHost::Tcp(name, port) if name.contains(':') => format!("[{name}]:{port}"),
                PgHost::Tcp(name, port) => format!("{name}:{port}"),
                PgHost::Socket(dir, port) => format!("{}:{port}", dir.display()),
            })
            .collect();
        let secret = if self.password.is_some() { ":***" } else { "" };
        format!(
            "postgresql://{}{secret}@{}/{}",
            self.user,
            hosts.join(","),
            self.dbname
        )
    }

    /// `text` with every occurrence of the password replaced by `***` (for messages
    /// that come from elsewhere, such as a driver error).
    pub fn scrub(&self, text: &str) -> String {
        match self.password.as_deref().filter(|p| p.len() >= 3) {
            Some(p) => text.replace(p, "***"),
            None => text.to_string(),
        }
    }
}

/// `host[:port]` items separated by commas; `[v6]` literals keep their colons.
fn split_hosts(list: &str) -> Result<Vec<(String, u16)>, TargetError> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if let Some(v6) = item.strip_prefix('[') {
            let (addr, tail) = v6
                .split_once(']')
                .ok_or_else(|| TargetError("unclosed [ in the host".into()))?;
            let port = match tail.strip_prefix(':') {
                Some(p) => parse_port(p)?,
                None => DEFAULT_PORT,
            };
            out.push((addr.to_string(), port));
        } else if let Some((host, port)) = item.rsplit_once(':') {
            out.push((host.to_string(), parse_port(port)?));
        } else {
            out.push((item.to_string(), DEFAULT_PORT));
        }
    }
    Ok(out)
}

fn parse_port(text: &str) -> Result<u16, TargetError> {
    match text.trim() {
        "" => Ok(DEFAULT_PORT),
        t => t
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| TargetError(format!("invalid port {t:?}"))),
    }
}

/// Percent-decoding; `what` names the part in the error (never its value).
fn decode(text: &str, what: &str) -> Result<String, TargetError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| TargetError(format!("bad percent-encoding in the {what}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| TargetError(format!("the {what} is not UTF-8")))
}

/// Open WebUI's database settings as the Python layer reads them: `DATABASE_URL` (from
/// `open_webui.env` when loaded, else the environment) and the `DATABASE_*` parts.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OwuiDatabase {
    /// `DATABASE_URL`.
    pub url: Option<String>,
    /// `DATABASE_TYPE` (e.g. `postgresql`).
    #[serde(rename = "type")]
    pub db_type: Option<String>,
    /// `DATABASE_USER`.
    pub user: Option<String>,
    /// `DATABASE_PASSWORD`.
    pub password: Option<String>,
    /// `DATABASE_HOST`.
    pub host: Option<String>,
    /// `DATABASE_PORT`.
    pub port: Option<String>,
    /// `DATABASE_NAME`.
    pub name: Option<String>,
}

impl fmt::Debug for OwuiDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwuiDatabase")
            .field(
                "postgres",
                &self.postgres().map(|t| t.map(|t| t.redacted())),
            )
            .finish_non_exhaustive()
    }
}

impl OwuiDatabase {
    /// The URL Open WebUI itself uses, by its recipe (`env.py`): the `DATABASE_*`
    /// parts win when all of type, credentials, host, port and name are set.
    pub fn effective_url(&self) -> Option<String> {
        let set = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let mut cred = set(&self.user).unwrap_or_default();
        if let Some(p) = set(&self.password) {
            cred.push(':');
            cred.push_str(&p);
        }
        if let (Some(t), false, Some(h), Some(p), Some(n)) = (
            set(&self.db_type),
            cred.is_empty(),
            set(&self.host),
            set(&self.port),
            set(&self.name),
        ) {
            return Some(format!("{t}://{cred}@{h}:{p}/{n}"));
        }
        set(&self.url)
    }

    /// The PostgreSQL database Open WebUI runs on: `None` when it runs on something else
    /// (SQLite), an error when its URL names PostgreSQL but cannot be read.
    pub fn postgres(&self) -> Option<Result<PgTarget, TargetError>> {
        let url = self.effective_url()?;
        is_postgres_url(&url).then(|| PgTarget::parse(&url))
    }
}

#[cfg(test)]
mod tests;
