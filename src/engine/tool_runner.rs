//! Runs the function calls of one round through the host (Python owns the tools), under
//! the limits of the valves: calls in flight per request and per process, same-tool
//! batches with a shared deadline, a per-call timeout with one retry, an idle timeout,
//! and a per-user, per-tool-type breaker. Every call gets an answer for the model, in
//! call order: a tool that fails, hangs, is missing or gets bad arguments is reported in
//! its output, never by ending the chat. The user sees a status line per call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::time::{sleep, timeout_at, Instant};

use super::host::{Host, HostCall, HostError};
use super::request::ToolEntry;
use super::sink::Sink;
use crate::artifacts::breaker::{Breaker, BreakerLimits};
use crate::emit::{Emit, FunctionCall};
use crate::tools::calls::{parse_arguments, plan_batches, Batch, PreparedCall};
use crate::tools::output::result_text;
use crate::valves::ToolSettings;

/// Pause before the second attempt of a failed call.
const RETRY_BACKOFF: Duration = Duration::from_millis(200);

/// One call's end, in the order the model asked.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutcome {
    pub call: FunctionCall,
    /// What the model reads (the tool's result, or what went wrong).
    pub text: String,
    /// Whether the tool ran and answered.
    pub ok: bool,
}

/// The tools this answer may run, by name.
pub struct Toolbox<'a> {
    entries: HashMap<&'a str, &'a ToolEntry>,
    user_id: String,
}

impl<'a> Toolbox<'a> {
    pub fn new(entries: &'a [ToolEntry], user_id: Option<&str>) -> Self {
        Self {
            entries: entries
                .iter()
                .filter(|e| e.runnable)
                .map(|e| (e.name.as_str(), e))
                .collect(),
            user_id: user_id.unwrap_or("anonymous").to_string(),
        }
    }

    fn breaker_key(&self, entry: &ToolEntry) -> String {
        let kind = if entry.kind.is_empty() {
            "function"
        } else {
            entry.kind.as_str()
        };
        format!("{}\u{1f}{}", self.user_id, kind.to_ascii_lowercase())
    }
}

/// Runs `calls`, sending status lines to `sink`, and returns one outcome per call.
pub async fn run_calls<S: Sink, H: Host>(
    calls: &[FunctionCall],
    toolbox: &Toolbox<'_>,
    settings: &ToolSettings,
    breaker_limits: BreakerLimits,
    host: &H,
    sink: &mut S,
) -> Vec<CallOutcome> {
    let breaker = tool_breaker(breaker_limits);
    let mut outcomes: Vec<Option<CallOutcome>> = vec![None; calls.len()];
    let mut ready = Vec::new();
    for (index, call) in calls.iter().enumerate() {
        let refuse = |text: String| {
            Some(CallOutcome {
                call: call.clone(),
                text,
                ok: false,
            })
        };
        if call.name.trim().is_empty() {
            outcomes[index] = refuse("Tool call missing name".into());
            continue;
        }
        let Some(entry) = toolbox.entries.get(call.name.as_str()) else {
            outcomes[index] = refuse("Tool not found".into());
            continue;
        };
        if !breaker.allows(&toolbox.breaker_key(entry)) {
            sink.send(Emit::status(
                format!("Skipping {} tools due to repeated failures", call.name),
                false,
            ))
            .await;
            outcomes[index] = refuse(format!(
                "Tool '{}' skipped due to repeated failures.",
                call.name
            ));
            continue;
        }
        match parse_arguments(&call.arguments) {
            Ok(arguments) => ready.push(PreparedCall {
                index,
                call: call.clone(),
                arguments,
            }),
            Err(why) => outcomes[index] = refuse(format!("Invalid arguments: {why}")),
        }
    }
    let per_request = Arc::new(Semaphore::new(settings.parallel_per_request));
    let global = global_limit(settings.parallel_global);
    let mut stages: Vec<Vec<Batch>> = Vec::new();
    for batch in plan_batches(ready, settings.batch_cap) {
        match stages.last_mut() {
            Some(stage) if !batch.after_previous => stage.push(batch),
            _ => stages.push(vec![batch]),
        }
    }
    let mut idle = false;
    for stage in stages {
        let mut running = FuturesUnordered::new();
        for batch in stage {
            let deadline = Instant::now() + settings.batch_timeout;
            let name = batch.name.clone();
            for prepared in batch.calls {
                let entry = toolbox.entries[prepared.call.name.as_str()];
                if idle {
                    outcomes[prepared.index] = Some(idle_outcome(&prepared.call, settings));
                    continue;
                }
                sink.send(Emit::status(
                    format!("Running {}…", prepared.call.name),
                    false,
                ))
                .await;
                let job = RunOne {
                    host,
                    settings,
                    per_request: per_request.clone(),
                    global: global.clone(),
                    entry,
                };
                let name = name.clone();
                running.push(async move {
                    let index = prepared.index;
                    let call = prepared.call.clone();
                    let result = timeout_at(deadline, job.run(prepared)).await;
                    let result = result.unwrap_or_else(|_| {
                        Err(format!(
                            "Tool batch '{name}' exceeded {}s and was cancelled.",
                            job.settings.batch_timeout.as_secs()
                        ))
                    });
                    (index, call, entry, result)
                });
            }
        }
        loop {
            let next = match settings.idle_timeout {
                Some(limit) if !running.is_empty() => {
                    match tokio::time::timeout(limit, running.next()).await {
                        Ok(next) => next,
                        Err(_) => {
                            idle = true;
                            break;
                        }
                    }
                }
                _ => running.next().await,
            };
            let Some((index, call, entry, result)) = next else {
                break;
            };
            let key = toolbox.breaker_key(entry);
            let ok = result.is_ok();
            if ok {
                breaker.record_success(&key);
            } else {
                breaker.record_failure(&key);
            }
            let word = if ok { "done" } else { "failed" };
            sink.send(Emit::status(format!("{} {word}", call.name), true))
                .await;
            let text = result.unwrap_or_else(|why| why);
            outcomes[index] = Some(CallOutcome { call, text, ok });
        }
        drop(running); // an idle timeout cancels what still runs
    }
    outcomes
        .into_iter()
        .zip(calls)
        .map(|(outcome, call)| outcome.unwrap_or_else(|| idle_outcome(call, settings)))
        .collect()
}

fn idle_outcome(call: &FunctionCall, settings: &ToolSettings) -> CallOutcome {
    let secs = settings.idle_timeout.map(|d| d.as_secs()).unwrap_or(0);
    CallOutcome {
        call: call.clone(),
        text: format!("Tool queue idle for {secs}s; cancelling pending work."),
        ok: false,
    }
}

/// One call with its limits: a slot in both semaphores, then up to two attempts.
struct RunOne<'a, H: Host> {
    host: &'a H,
    settings: &'a ToolSettings,
    per_request: Arc<Semaphore>,
    global: Arc<Semaphore>,
    entry: &'a ToolEntry,
}

impl<H: Host> RunOne<'_, H> {
    async fn run(&self, prepared: PreparedCall) -> Result<String, String> {
        let _mine = self.per_request.acquire().await;
        let _everyone = self.global.acquire().await;
        let args = json!({
            "name": prepared.call.name,
            "call_id": prepared.call.call_id,
            "arguments": Value::Object(prepared.arguments),
            "kind": self.entry.kind,
        });
        let mut last = HostError::Cancelled;
        for attempt in 0..2 {
            if attempt > 0 {
                sleep(RETRY_BACKOFF).await;
            }
            match self
                .host
                .call(HostCall::Tool(args.clone()), self.settings.call_timeout)
                .await
            {
                Ok(value) => return Ok(result_text(&value)),
                Err(err @ (HostError::Failed(_) | HostError::Timeout)) => last = err,
                Err(err) => {
                    last = err;
                    break;
                }
            }
        }
        Err(match last {
            HostError::Timeout => format!(
                "Tool error: '{}' timed out after {}s.",
                prepared.call.name,
                self.settings.call_timeout.as_secs()
            ),
            HostError::Failed(why) | HostError::Unavailable(why) => format!("Tool error: {why}"),
            HostError::Cancelled => "Tool execution cancelled".into(),
        })
    }
}

/// The process-wide breaker for tool types, following the valves' limits.
fn tool_breaker(limits: BreakerLimits) -> &'static Breaker {
    static BREAKER: OnceLock<Breaker> = OnceLock::new();
    Breaker::shared(&BREAKER, limits)
}

/// The process-wide limit of calls in flight; a new size takes effect for calls that
/// start after the change (calls already holding a slot keep it).
fn global_limit(size: usize) -> Arc<Semaphore> {
    static LIMIT: OnceLock<Mutex<(usize, Arc<Semaphore>)>> = OnceLock::new();
    let cell = LIMIT.get_or_init(|| Mutex::new((size, Arc::new(Semaphore::new(size)))));
    let mut guard = cell.lock().unwrap_or_else(|p| p.into_inner());
    if guard.0 != size {
        *guard = (size, Arc::new(Semaphore::new(size)));
    }
    guard.1.clone()
}

#[cfg(test)]
mod tests;
