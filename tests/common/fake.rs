//! Test helper: run `fake_openrouter/server.py` as a child process and drive its control API.
//! std only; control calls are one-shot HTTP/1.1 requests with `Connection: close`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

pub struct Fake {
    pub port: u16,
    /// `http://127.0.0.1:<port>/api/v1`, the value for the client's BASE_URL.
    pub base_url: String,
    child: Child,
    _stdout: BufReader<ChildStdout>,
}

impl Fake {
    /// Start the fake on a free port (`python3`, or the interpreter named by `$PYTHON`).
    pub fn start() -> Fake {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fake_openrouter/server.py");
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
        let mut child = Command::new(&python)
            .args([script, "--host", "127.0.0.1", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} {script}: {e}"));
        let mut stdout = BufReader::new(child.stdout.take().expect("child stdout"));
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let port = match line
            .trim()
            .strip_prefix("FAKE_OPENROUTER_PORT=")
            .map(str::parse::<u16>)
        {
            Some(Ok(port)) => port,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("fake OpenRouter did not start (first line {line:?})");
            }
        };
        Fake {
            port,
            base_url: format!("http://127.0.0.1:{port}/api/v1"),
            child,
            _stdout: stdout,
        }
    }

    /// `http://127.0.0.1:<port>` (control API and `/health` live here).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Queue a plan (JSON object) or a list of plans (JSON array). Panics if the fake rejects it.
    pub fn enqueue(&self, plan_json: &str) {
        let (status, body) = self.call("POST", "/_fake/plans", Some(plan_json));
        assert_eq!(status, 200, "fake rejected plan {plan_json}: {body}");
    }

    /// Recorded requests as raw JSON: `[{"path","method","headers","body","ts",...}]`.
    pub fn requests(&self) -> String {
        self.call("GET", "/_fake/requests", None).1
    }

    /// Stream counters as raw JSON (`active_streams`, `client_aborted`, ...).
    pub fn stats(&self) -> String {
        self.call("GET", "/_fake/stats", None).1
    }

    /// Forget plans, recorded requests and stats; restore the catalog.
    pub fn clear(&self) {
        self.call("POST", "/_fake/reset", Some("{}"));
    }

    /// Replace the catalog: `{"data":[...]}`, `{"fixture":"..."}` or `{"error":503}`.
    pub fn set_models(&self, json: &str) {
        let (status, body) = self.call("POST", "/_fake/models", Some(json));
        assert_eq!(status, 200, "fake rejected models {json}: {body}");
    }

    /// One HTTP/1.1 request to the fake; returns (status, body).
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to fake");
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let body = body.unwrap_or("");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("write to fake");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read from fake");
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, body.to_string())
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
