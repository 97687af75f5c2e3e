//! The self-check of the host port: runs a list of host calls through the same session
//! an answer uses and reports each outcome, so the round trip, its timeouts and its
//! cancellation can be checked from Python without a model in the loop.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::host::{Host, HostCall, HostError};

/// One call of a probe plan.
#[derive(Debug, Deserialize)]
pub struct ProbeCall {
    /// `echo`, `emit` or `event_call`.
    pub op: String,
    #[serde(default)]
    pub args: Value,
    /// Seconds the host may take (default 5).
    #[serde(default = "default_timeout")]
    pub timeout: f64,
}

fn default_timeout() -> f64 {
    5.0
}

/// Runs `plan` (a JSON array of [`ProbeCall`]) in order; one JSON line per call:
/// `{"op", "ok": <answer>}` or `{"op", "error": <kind>, "message"}`.
pub async fn run<H: Host>(plan: &str, host: &H) -> Vec<String> {
    let calls: Vec<ProbeCall> = match serde_json::from_str(plan) {
        Ok(calls) => calls,
        Err(e) => return vec![json!({"error": "plan", "message": e.to_string()}).to_string()],
    };
    let mut out = Vec::with_capacity(calls.len());
    for call in calls {
        let host_call = match call.op.as_str() {
            "echo" => HostCall::Echo(call.args),
            "emit" => HostCall::Emit(call.args),
            "event_call" => HostCall::EventCall(call.args),
            other => {
                out.push(json!({"op": other, "error": "unknown op"}).to_string());
                continue;
            }
        };
        let timeout = Duration::from_secs_f64(call.timeout.clamp(0.0, 3600.0));
        let line = match host.call(host_call, timeout).await {
            Ok(value) => json!({"op": call.op, "ok": value}),
            Err(err) => {
                let kind = match &err {
                    HostError::Unavailable(_) => "unavailable",
                    HostError::Timeout => "timeout",
                    HostError::Failed(_) => "failed",
                    HostError::Cancelled => "cancelled",
                };
                json!({"op": call.op, "error": kind, "message": err.to_string()})
            }
        };
        out.push(line.to_string());
    }
    out
}
