//! The runner's limits with a scripted host on tokio's paused clock: concurrency caps,
//! batch and idle timeouts, retries, and outputs in call order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::Map;

use super::*;
use crate::engine::sink::CollectSink;
use crate::valves::Settings;

/// Held by every test that runs calls: the process-wide limit is one per process, and a
/// test running beside another with a different `MAX_PARALLEL_TOOLS_GLOBAL` resizes it.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Answers tool calls after a delay per tool name; `fail` names always raise.
#[derive(Default)]
struct ScriptedHost {
    delays: HashMap<String, Duration>,
    fail: Vec<String>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    calls: Mutex<Vec<String>>,
}

impl Host for ScriptedHost {
    async fn call(&self, call: HostCall, timeout: Duration) -> Result<Value, HostError> {
        let HostCall::Tool(args) = call else {
            return Err(HostError::Unavailable("only tools".into()));
        };
        let name = args["name"].as_str().unwrap().to_string();
        self.calls.lock().unwrap().push(name.clone());
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        let delay = self.delays.get(&name).copied().unwrap_or_default();
        let answer = if delay > timeout {
            sleep(timeout).await;
            Err(HostError::Timeout)
        } else {
            sleep(delay).await;
            if self.fail.contains(&name) {
                Err(HostError::Failed(format!("{name} broke")))
            } else {
                Ok(json!(format!("{name}:{}", args["arguments"])))
            }
        };
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        answer
    }
}

fn entries(names: &[&str]) -> Vec<ToolEntry> {
    names
        .iter()
        .map(|n| ToolEntry {
            name: n.to_string(),
            spec: json!({"name": n}),
            kind: "local".into(),
            runnable: true,
        })
        .collect()
}

fn call(i: usize, name: &str, args: &str) -> FunctionCall {
    FunctionCall {
        item_id: format!("fc_{i}"),
        call_id: format!("call_{i}"),
        name: name.into(),
        arguments: args.into(),
    }
}

fn settings_of(values: Value) -> Settings {
    settings(values)
}

fn settings(values: Value) -> Settings {
    Settings::new(values.as_object().cloned().unwrap_or_else(Map::new))
}

async fn run(
    host: &ScriptedHost,
    tools: &[ToolEntry],
    calls: &[FunctionCall],
    settings: &Settings,
    user: &str,
) -> Vec<CallOutcome> {
    let toolbox = Toolbox::new(tools, Some(user));
    let mut sink = CollectSink::default();
    run_calls(
        calls,
        &toolbox,
        &settings.tools,
        settings.artifacts.breaker,
        host,
        &mut sink,
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn calls_in_flight_never_exceed_the_per_request_limit() {
    let _serial = SERIAL.lock().await;
    let host = ScriptedHost {
        delays: [("slow".to_string(), Duration::from_secs(1))].into(),
        ..Default::default()
    };
    let calls: Vec<_> = (0..7).map(|i| call(i, "slow", "{}")).collect();
    let settings = settings(json!({"MAX_PARALLEL_TOOLS_PER_REQUEST": 3, "TOOL_BATCH_CAP": 2}));
    let started = Instant::now();
    let outcomes = run(&host, &entries(&["slow"]), &calls, &settings, "u-limit").await;
    assert_eq!(host.most_in_flight.load(Ordering::SeqCst), 3);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(3),
        "7 calls, 3 at a time"
    );
    assert!(outcomes.iter().all(|o| o.ok));
    let order: Vec<_> = outcomes.iter().map(|o| o.call.call_id.clone()).collect();
    let expected: Vec<_> = (0..7).map(|i| format!("call_{i}")).collect();
    assert_eq!(order, expected, "outputs keep call order");
}

#[tokio::test(start_paused = true)]
async fn a_batch_that_overruns_its_deadline_is_cancelled_with_a_message() {
    let _serial = SERIAL.lock().await;
    let host = ScriptedHost {
        delays: [("slow".to_string(), Duration::from_secs(25))].into(),
        ..Default::default()
    };
    let calls = [call(0, "slow", "{}"), call(1, "slow", "{}")];
    // Each attempt times out at 20 s; the retry would end at 40.2 s, past the batch's 30 s.
    let settings = settings(json!({"TOOL_TIMEOUT_SECONDS": 20, "TOOL_BATCH_TIMEOUT_SECONDS": 30}));
    let started = Instant::now();
    let outcomes = run(&host, &entries(&["slow"]), &calls, &settings, "u-batch").await;
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    for outcome in outcomes {
        assert_eq!(
            outcome.text,
            "Tool batch 'slow' exceeded 30s and was cancelled."
        );
    }
    // A batch limit below the call timeout is raised to it.
    let raised = settings_of(json!({"TOOL_TIMEOUT_SECONDS": 20, "TOOL_BATCH_TIMEOUT_SECONDS": 5}));
    assert_eq!(raised.tools.batch_timeout, Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn the_idle_timeout_cancels_what_is_left() {
    let _serial = SERIAL.lock().await;
    let host = ScriptedHost {
        delays: [
            ("quick".to_string(), Duration::from_secs(1)),
            ("stuck".to_string(), Duration::from_secs(500)),
        ]
        .into(),
        ..Default::default()
    };
    let calls = [call(0, "quick", "{}"), call(1, "stuck", "{}")];
    let settings = settings(json!({"TOOL_TIMEOUT_SECONDS": 600, "TOOL_IDLE_TIMEOUT_SECONDS": 5}));
    let outcomes = run(
        &host,
        &entries(&["quick", "stuck"]),
        &calls,
        &settings,
        "u-idle",
    )
    .await;
    assert!(outcomes[0].ok);
    assert_eq!(
        outcomes[1].text,
        "Tool queue idle for 5s; cancelling pending work."
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_call_is_tried_twice_then_reported() {
    let _serial = SERIAL.lock().await;
    let host = ScriptedHost {
        fail: vec!["broken".into()],
        ..Default::default()
    };
    let outcomes = run(
        &host,
        &entries(&["broken"]),
        &[call(0, "broken", "{}")],
        &settings(json!({})),
        "u-retry",
    )
    .await;
    assert_eq!(host.calls.lock().unwrap().len(), 2);
    assert_eq!(outcomes[0].text, "Tool error: broken broke");
    assert!(!outcomes[0].ok);
}

#[tokio::test(start_paused = true)]
async fn a_dependent_call_waits_for_the_calls_before_it() {
    let _serial = SERIAL.lock().await;
    let host = ScriptedHost {
        delays: [("first".to_string(), Duration::from_secs(2))].into(),
        ..Default::default()
    };
    let calls = [
        call(0, "first", "{}"),
        call(1, "second", r#"{"input": "result of call_0"}"#),
    ];
    let started = Instant::now();
    let outcomes = run(
        &host,
        &entries(&["first", "second"]),
        &calls,
        &settings(json!({})),
        "u-deps",
    )
    .await;
    assert_eq!(*host.calls.lock().unwrap(), vec!["first", "second"]);
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert!(outcomes.iter().all(|o| o.ok));
}

#[tokio::test(start_paused = true)]
async fn answers_share_the_process_wide_limit() {
    let _serial = SERIAL.lock().await;
    let host = ScriptedHost {
        delays: [("slow".to_string(), Duration::from_secs(1))].into(),
        ..Default::default()
    };
    let tools = entries(&["slow"]);
    let calls: Vec<_> = (0..4).map(|i| call(i, "slow", "{}")).collect();
    let settings = settings(json!({"MAX_PARALLEL_TOOLS_GLOBAL": 3}));
    let started = Instant::now();
    let (a, b) = tokio::join!(
        run(&host, &tools, &calls, &settings, "u-global-a"),
        run(&host, &tools, &calls, &settings, "u-global-b"),
    );
    assert_eq!(host.most_in_flight.load(Ordering::SeqCst), 3);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(3),
        "8 calls, 3 at a time"
    );
    assert!(a.iter().chain(&b).all(|o| o.ok));
}
