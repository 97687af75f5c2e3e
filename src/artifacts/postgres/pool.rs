//! A small bounded pool of PostgreSQL connections: at most [`POOL_SIZE`] per storage,
//! idle ones reused, a dead one (server restarted, statement timed out) dropped rather
//! than returned. Statements are prepared once per connection.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::target::{PgHost, PgTarget, SslMode};
use super::tls;
use crate::artifacts::store::StoreError;

/// Connections per storage and process. The reference pipe runs its database work on 5
/// threads per process; 5 connections give the same concurrency towards the server, and
/// `workers × nodes × 5` stays well under PostgreSQL's default `max_connections` (100)
/// for the deployments this targets.
pub const POOL_SIZE: usize = 5;
/// Longest wait for a free connection before the operation reports `Unavailable`.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Server-side limit of one statement (`statement_timeout`); the client gives up a little later.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(15);

/// One connection and the statements prepared on it.
pub struct Conn {
    client: Client,
    prepared: HashMap<String, Statement>,
}

impl Conn {
    /// The prepared form of `sql` on this connection (prepared on first use).
    pub async fn statement(&mut self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).await?;
        self.prepared.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    /// The client, for statements run once (schema creation).
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// The pool of one storage.
pub struct Pool {
    target: PgTarget,
    tls: Option<MakeRustlsConnect>,
    idle: Mutex<Vec<Conn>>,
    permits: std::sync::Arc<Semaphore>,
}

/// A connection taken from the pool; it goes back when dropped unless marked broken.
pub struct Pooled<'p> {
    pool: &'p Pool,
    conn: Option<Conn>,
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("present until dropped")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("present until dropped")
    }
}

impl Pooled<'_> {
    /// Drops the connection instead of reusing it (after an error or a timeout it may be
    /// mid-statement or dead).
    pub fn discard(mut self) {
        self.conn = None;
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !conn.client.is_closed() {
                self.pool
                    .idle
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(conn);
            }
        }
    }
}

impl Pool {
    /// A pool for `target` (nothing is connected yet).
    pub fn new(target: PgTarget) -> Result<Self, StoreError> {
        let client_cert = target
            .ssl_cert
            .as_deref()
            .map(|cert| (cert, target.ssl_key.as_deref().unwrap_or(cert)));
        let tls = tls::client_config(
            target.ssl_mode,
            target.ssl_root_cert.as_deref(),
            client_cert,
        )
        .map_err(StoreError::Unavailable)?
        .map(MakeRustlsConnect::new);
        Ok(Self {
            target,
            tls,
            idle: Mutex::new(Vec::new()),
            permits: std::sync::Arc::new(Semaphore::new(POOL_SIZE)),
        })
    }

    /// A live connection: an idle one, else a new one. Waits at most
    /// [`ACQUIRE_TIMEOUT`] for a free slot.
    pub async fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let permit = tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                StoreError::Unavailable(format!("all {POOL_SIZE} database connections are busy"))
            })?
            .map_err(|_| StoreError::Unavailable("the pool is closed".into()))?;
        let reused = loop {
            let next = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match next {
                Some(c) if c.client.is_closed() => continue,
                other => break other,
            }
        };
        let conn = match reused {
            Some(c) => c,
            None => self.connect().await?,
        };
        Ok(Pooled {
            pool: self,
            conn: Some(conn),
            _permit: permit,
        })
    }

    /// Drops every idle connection (after the server went away, they are all dead).
    pub fn clear_idle(&self) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    async fn connect(&self) -> Result<Conn, StoreError> {
        let t = &self.target;
        let mut config = tokio_postgres::Config::new();
        config
            .user(&t.user)
            .dbname(&t.dbname)
            .application_name(&t.application_name)
            .connect_timeout(t.connect_timeout)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30));
        if let Some(p) = t.password() {
            config.password(p);
        }
        let limit = format!("-c statement_timeout={}", STATEMENT_TIMEOUT.as_millis());
        config.options(match &t.options {
            Some(o) => format!("{o} {limit}"),
            None => limit,
        });
        for host in &t.hosts {
            match host {
                PgHost::Tcp(name, port) => config.host(name).port(*port),
                PgHost::Socket(dir, port) => config.host_path(dir).port(*port),
            };
        }
        config.ssl_mode(match t.ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        // The login itself is bounded too (connect_timeout covers each TCP connect only).
        let deadline = t.connect_timeout * (t.hosts.len() as u32).max(1) + Duration::from_secs(1);
        let client = match &self.tls {
            None => {
                let fut = config.connect(tokio_postgres::NoTls);
                let (client, connection) = tokio::time::timeout(deadline, fut)
                    .await
                    .map_err(|_| self.connect_timed_out())?
                    .map_err(|e| self.connect_failed(&e))?;
                crate::runtime::spawn(async move {
                    let _ = connection.await;
                });
                client
            }
            Some(tls) => {
                let fut = config.connect(tls.clone());
                let (client, connection) = tokio::time::timeout(deadline, fut)
                    .await
                    .map_err(|_| self.connect_timed_out())?
                    .map_err(|e| self.connect_failed(&e))?;
                crate::runtime::spawn(async move {
                    let _ = connection.await;
                });
                client
            }
        };
        Ok(Conn {
            client,
            prepared: HashMap::new(),
        })
    }

    fn connect_timed_out(&self) -> StoreError {
        StoreError::Unavailable(format!(
            "cannot connect to {} within {:?}",
            self.target.redacted(),
            self.target.connect_timeout
        ))
    }

    fn connect_failed(&self, e: &tokio_postgres::Error) -> StoreError {
        let reason = self.target.scrub(&error_text(e));
        let message = format!("cannot connect to {}: {reason}", self.target.redacted());
        classify(e, message)
    }
}

/// The typed error for a driver error (`message` already scrubbed): the server gone,
/// starting or shutting down, or out of connections is `Unavailable` (worth retrying);
/// a serialization failure or lock timeout is `Busy`; anything else (a wrong password,
/// a refused statement) is `Postgres`.
pub fn classify(e: &tokio_postgres::Error, message: String) -> StoreError {
    match e.code().map(|c| c.code()) {
        None => StoreError::Unavailable(message),
        Some(c) if c.starts_with("08") || c.starts_with("57P") || c == "53300" => {
            StoreError::Unavailable(message)
        }
        Some("40001" | "40P01" | "55P03") => StoreError::Busy(message),
        Some(_) => StoreError::Postgres(message),
    }
}

/// The error with its cause (tokio-postgres's own `Display` often says only "db error").
pub fn error_text(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}
