//! A tiny HTTP server on 127.0.0.1 that counts connections and plays a script.
//!
//! Exists so the SSRF tests can prove that a refused download never reached a socket
//! (the counter stays 0) and so the guarded download's mechanism (redirects, size cap,
//! time budget) can be exercised without leaving loopback.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server answers to every request.
#[derive(Clone)]
pub enum Reply {
    /// These bytes, then the connection is closed.
    Fixed(Vec<u8>),
    /// A status line and headers, then one byte every 200 ms forever.
    Drip,
}

/// A running server; dropped with the test's runtime.
pub struct LoopbackServer {
    pub port: u16,
    connections: Arc<AtomicUsize>,
}

impl LoopbackServer {
    /// Start answering `reply` on a free loopback port.
    pub async fn start(reply: Reply) -> LoopbackServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let reply = reply.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    match reply {
                        Reply::Fixed(bytes) => {
                            let _ = socket.write_all(&bytes).await;
                        }
                        Reply::Drip => {
                            let _ = socket
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
                                .await;
                            loop {
                                if socket.write_all(b"x").await.is_err() {
                                    return;
                                }
                                tokio::time::sleep(Duration::from_millis(200)).await;
                            }
                        }
                    }
                    let _ = socket.shutdown().await;
                });
            }
        });
        LoopbackServer { port, connections }
    }

    /// A server that answers every request with `302 Location: <location>`.
    pub async fn redirecting_to(location: &str) -> LoopbackServer {
        let reply = format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        LoopbackServer::start(Reply::Fixed(reply.into_bytes())).await
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
