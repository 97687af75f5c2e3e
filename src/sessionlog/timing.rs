//! Why this file exists: a slow answer must be explainable from its archive. One request's
//! timing breakdown (queue wait, time to first token, upstream and tool time, tokens per
//! second) is gathered here as the answer runs and written into `meta.json`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Where one request spent its time.
#[derive(Debug, Clone)]
pub struct Timing {
    /// When `start_chat` handed the request to the engine.
    pub accepted: Instant,
    /// When the engine began working on it.
    pub started: Instant,
    /// The first text or reasoning sent to Open WebUI.
    pub first_token: Option<Instant>,
    /// Summed over upstream rounds, from sending to the end of the answer's body.
    pub upstream: Duration,
    /// Summed over tool rounds.
    pub tools: Duration,
    /// The answer's output tokens (every round), when OpenRouter reported usage.
    pub output_tokens: Option<u64>,
}

/// A part of the request that is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// One upstream round.
    Upstream,
    /// One tool round.
    Tools,
}

impl Timing {
    /// A request accepted at `accepted` and started now.
    pub fn new(accepted: Instant) -> Self {
        Self {
            accepted,
            started: Instant::now(),
            first_token: None,
            upstream: Duration::ZERO,
            tools: Duration::ZERO,
            output_tokens: None,
        }
    }

    /// Adds the time of one phase.
    pub fn add(&mut self, phase: Phase, took: Duration) {
        match phase {
            Phase::Upstream => self.upstream += took,
            Phase::Tools => self.tools += took,
        }
    }

    /// The breakdown as `meta.json` carries it (milliseconds; `null` when unknown).
    pub fn json(&self, now: Instant) -> Value {
        let ms = |d: Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
        let tokens_per_second = match self.output_tokens {
            Some(tokens) if self.upstream > Duration::ZERO => {
                Some((tokens as f64 / self.upstream.as_secs_f64() * 10.0).round() / 10.0)
            }
            _ => None,
        };
        json!({
            "queue_wait_ms": ms(self.started.saturating_duration_since(self.accepted)),
            "time_to_first_token_ms": self.first_token.map(|t| ms(t.saturating_duration_since(self.accepted))),
            "upstream_ms": ms(self.upstream),
            "tool_ms": ms(self.tools),
            "total_ms": ms(now.saturating_duration_since(self.accepted)),
            "output_tokens": self.output_tokens,
            "tokens_per_second": tokens_per_second,
        })
    }
}
