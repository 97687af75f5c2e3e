//! `rediss://` against a real `redis-server` with TLS (Debian's, started here on loopback
//! with certificates from a throw-away CA made by the `openssl` command): the REDIS_URL
//! forms Open WebUI's own Redis client reads (`ssl_ca_certs`, `ssl_certfile`/`ssl_keyfile`,
//! `ssl_cert_reqs=none`) connect, the write-behind queue works over them, and a server
//! whose certificate is not trusted is refused. Skips only when `redis-server` or
//! `openssl` is missing (CI installs both).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use openrouter_pipe::artifacts::{
    ArtifactStorage, ArtifactStore, CodecConfig, NewArtifact, SqliteStorage, StoreConfig,
};
use openrouter_pipe::scaleout::{FlushOptions, RedisLink, WriteBehind};
use serde_json::json;

struct TlsRedis {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl TlsRedis {
    fn start(require_client_certificate: bool) -> Option<Self> {
        let redis = Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok();
        if !redis || !common::certs::have_openssl() {
            eprintln!("SKIPPED: redis-server or openssl is not installed");
            return None;
        }
        let port = common::free_port();
        let dir = std::env::temp_dir().join(format!("redis-tls-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        common::certs::make(&dir, Some("orp-client"));
        let path = |f: &str| dir.join(f).to_str().unwrap().to_owned();
        let auth = if require_client_certificate {
            "yes"
        } else {
            "no"
        };
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .args([
                "--tls-cert-file",
                &path("server.crt"),
                "--tls-key-file",
                &path("server.key"),
            ])
            .args([
                "--tls-ca-cert-file",
                &path("ca.crt"),
                "--tls-auth-clients",
                auth,
            ])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self { child, port, dir })
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn connects(url: &str) -> Result<Arc<RedisLink>, String> {
    let link = RedisLink::new(url).map_err(|e| e.to_string())?;
    link.connect().await.map_err(|e| e.to_string())?;
    Ok(link)
}

fn codec() -> CodecConfig {
    CodecConfig {
        key: "redis-tls-test-key".into(),
        encrypt_all: true,
        compression: false,
        min_compress_bytes: 0,
    }
}

fn storage(dir: &Path) -> Arc<dyn ArtifactStorage> {
    let config = StoreConfig::new(dir.join("artifacts.db"), "openrouter", codec());
    Arc::new(SqliteStorage::new(Arc::new(
        ArtifactStore::open(config).unwrap(),
    )))
}

#[tokio::test]
async fn a_private_ca_from_the_url_is_trusted_and_the_queue_works_over_tls() {
    let Some(server) = TlsRedis::start(false) else {
        return;
    };
    let trusted = format!(
        "rediss://localhost:{}/0?ssl_ca_certs={}",
        server.port,
        server.file("ca.crt")
    );
    let link = connects(&trusted).await.expect("the private CA is trusted");
    let db = storage(&server.dir);
    let wb = WriteBehind::without_flusher(
        db.clone(),
        link,
        "openrouter",
        codec(),
        FlushOptions {
            batch_size: 10,
            lease: Duration::from_secs(30),
            ..FlushOptions::default()
        },
    );
    let rows: Vec<NewArtifact> = (0..3)
        .map(|i| NewArtifact {
            id: Some(openrouter_pipe::artifacts::new_id()),
            chat_id: "chat-tls".into(),
            message_id: format!("m{i}"),
            model_id: Some("openrouter.openai.o4-mini".into()),
            item: json!({"type": "reasoning", "id": format!("rs_{i}"), "summary": [{"type": "summary_text", "text": format!("step {i}")}]}),
        })
        .collect();
    let ids = wb.persist(rows).await.unwrap();
    assert_eq!(wb.flush().await.unwrap().written, 3);
    assert_eq!(db.count().await.unwrap(), 3);
    let back = wb.fetch("chat-tls".into(), None, ids).await.unwrap();
    assert_eq!(back.items.len(), 3);

    let untrusted = format!("rediss://localhost:{}/0", server.port);
    let refused = connects(&untrusted)
        .await
        .expect_err("an unknown CA is refused");
    assert!(!refused.is_empty());
    let unchecked = format!("rediss://127.0.0.1:{}/0?ssl_cert_reqs=none", server.port);
    connects(&unchecked)
        .await
        .expect("ssl_cert_reqs=none connects without verifying");
}

#[tokio::test]
async fn a_client_certificate_from_the_url_is_presented() {
    let Some(server) = TlsRedis::start(true) else {
        return;
    };
    let base = format!(
        "rediss://localhost:{}/0?ssl_ca_certs={}",
        server.port,
        server.file("ca.crt")
    );
    let with_cert = format!(
        "{base}&ssl_certfile={}&ssl_keyfile={}",
        server.file("client.crt"),
        server.file("client.key")
    );
    connects(&with_cert)
        .await
        .expect("the client certificate is accepted");
    assert!(
        connects(&base).await.is_err(),
        "without a client certificate the server refuses"
    );
    let missing = format!("{base}&ssl_certfile=/nonexistent/client.crt");
    let err = connects(&missing).await.err().unwrap();
    assert!(err.contains("ssl_certfile"), "{err}");
}
