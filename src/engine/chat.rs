//! One answer: the loop around upstream rounds ([`super::turn`]). It resolves the
//! model, replays the conversation's stored items, translates the request, runs rounds
//! and decides what a failed round means: for now every answer is one round and a
//! round that got no answer is final (its card is rendered here); the tool loop, retries
//! and fallbacks add rounds at this seam. Usage is summed over rounds.

use serde_json::Value;

use super::artifacts::ArtifactSession;
use super::fault_hook;
use super::gate;
use super::history;
use super::host::Host;
use super::images::{self, ShownImages};
use super::intake;
use super::request::ChatRequest;
use super::retry;
use super::routing::Routing;
use super::sink::{send_all, Sink};
use super::target::{self, Target};
use super::tool_offer;
use super::tool_rounds;
use super::tool_runner::{run_calls, CallOutcome, Toolbox};
use super::turn::{run_turn, TurnInput, TurnResult};
use crate::emit::{Emit, NoticeLevel};
use crate::errors::{self, CardStyle, ErrorContext};
use crate::http::{self, UpstreamError};
use crate::stream::mapper::MapperOptions;
use crate::tools::output::{output_item, tool_block};
use crate::translate::{self, TranslateContext};
use crate::valves::{FileSettings, Settings, ToolMode};

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The model answered (possibly cut short by its output limit).
    Answered,
    /// Nothing usable came back; the answer holds an explanation instead.
    Failed,
}

/// Runs one request to completion, sending everything to `sink`; `host` runs what only
/// Python can do, under `settings` (built once from the request's valves). Never fails:
/// every problem becomes a visible message in the answer.
pub async fn run<S: Sink, H: Host>(
    req: &ChatRequest,
    settings: &Settings,
    sink: &mut S,
    host: &H,
) -> Outcome {
    // Admission, the user's request breaker and a refused key come first: a request
    // turned away costs no database, catalog or upstream work.
    let Some(_admitted) = gate::admit(req, settings, sink).await else {
        let _ = sink.flush().await;
        return Outcome::Failed;
    };
    fault_hook::panic_if_asked(req, fault_hook::Stage::Answer);
    // Boxed: opening (SQLite or PostgreSQL) is the largest state of a chat's future, and
    // only needed until the session is open.
    let mut session = Box::pin(ArtifactSession::open(req, settings)).await;
    let outcome = {
        let mut tap = Tap {
            sink: &mut *sink,
            session: &mut session,
            hand_off: None,
            host,
            files: &settings.files,
            images: ShownImages::default(),
        };
        let notices = tap.session.take_notices();
        send_all(&mut tap, notices).await;
        Box::pin(answer(req, settings, &mut tap, host)).await
    };
    let closing = session.closing_markers();
    send_all(sink, closing).await;
    if outcome == Outcome::Answered {
        gate::answered(req, settings);
    }
    session.finish(settings, outcome == Outcome::Answered).await;
    let _ = sink.flush().await;
    outcome
}

/// Emits pass through the artifact session on their way to the sink, which turns item
/// boundaries into marker lines and queued rows; generated images are shown here, where
/// the host can store them.
struct Tap<'a, S: Sink, H: Host> {
    sink: &'a mut S,
    session: &'a mut ArtifactSession,
    /// Function calls go to Open WebUI's own tool loop (counted for their index).
    hand_off: Option<usize>,
    host: &'a H,
    files: &'a FileSettings,
    images: ShownImages,
}

impl<S: Sink, H: Host> Tap<'_, S, H> {
    async fn pass(&mut self, emit: Emit) -> bool {
        for out in self.session.intercept(emit) {
            if !self.sink.send(out).await {
                return false;
            }
        }
        true
    }
}

impl<S: Sink, H: Host> Sink for Tap<'_, S, H> {
    async fn send(&mut self, emit: Emit) -> bool {
        crate::sessionlog::note_emit(&emit);
        if let Some(item) = images::generated_item(&emit) {
            let shown = self.images.show(item, self.host, self.files).await;
            if !self.pass(emit).await {
                return false;
            }
            for out in shown {
                if !self.pass(out).await {
                    return false;
                }
            }
            return true;
        }
        let mut emit = emit;
        if let Emit::Content(text) = &mut emit {
            self.images.text(text);
        }
        let emit = match (emit, self.hand_off.as_mut()) {
            (Emit::FunctionCall(call), Some(count)) => {
                *count += 1;
                Emit::ToolCall {
                    index: *count - 1,
                    call,
                }
            }
            (emit, _) => emit,
        };
        let card_error = crate::sessionlog::card_error_id(&emit);
        if !self.pass(emit).await {
            return false;
        }
        // After the card's log line, so the citation's lines end with it (#14).
        match card_error.and_then(|id| crate::sessionlog::card_citation(&id)) {
            Some(citation) => self.sink.send(citation).await,
            None => true,
        }
    }

    fn deadline(&self) -> Option<std::time::Instant> {
        self.sink.deadline()
    }

    async fn flush(&mut self) -> bool {
        self.sink.flush().await
    }

    fn await_next_token(&mut self) {
        self.sink.await_next_token();
    }

    async fn opening(&mut self, emit: Emit) -> bool {
        self.sink.opening(emit).await
    }
}

/// Everything between the artifact session opening and closing.
async fn answer<S: Sink, H: Host>(
    req: &ChatRequest,
    settings: &Settings,
    sink: &mut Tap<'_, S, H>,
    host: &H,
) -> Outcome {
    let streaming = req.wants_stream() && req.task.is_none();
    if !preflight(settings, sink).await {
        return Outcome::Failed;
    }
    let card_style = super::cards::card_style(req, settings);
    let target = match target::resolve(req, settings, &card_style).await {
        Ok(t) => t,
        Err(emits) => {
            send_all(sink, emits).await;
            let _ = sink.flush().await;
            return Outcome::Failed;
        }
    };
    let card_style = card_style.with_model(
        target
            .model
            .as_ref()
            .and_then(|m| m.context_length.or(m.top_provider.context_length)),
        target
            .model
            .as_ref()
            .and_then(|m| m.top_provider.max_completion_tokens),
    );
    let mut messages = req.take_messages();
    intake::localize_file_links(&mut messages, &req.webui_origins);
    let accepts = intake::Accepts::of(target.model.as_ref());
    let messages =
        intake::prepare(messages, &req.files, &settings.files, accepts, host, sink).await;
    // Taken by value: the attachments (often megabytes) move into the replayed input.
    let replayed = history::replay(messages, sink.session).await;
    sink.session
        .delete_after_success(replayed.reasoning_to_delete);
    let ctx = TranslateContext {
        settings,
        model: target.model.as_ref(),
        model_id: &target.id,
        stream: streaming,
        task: req.task.is_some(),
        owned: target.owned,
        features: &req.features,
        user_id: req.user_id.as_deref(),
        session_id: req.session_id.as_deref(),
        chat_id: req.chat_id.as_deref(),
        message_id: req.message_id.as_deref(),
    };
    let mut outbound = translate::build(&req.body, replayed.input, &ctx);
    let offered = tool_offer::attach(&mut outbound, req, &target, &settings.tools);
    let toolbox = Toolbox::new(&req.tools, req.user_id.as_deref());
    if !offered.is_empty() && settings.tools.mode == ToolMode::OpenWebUi {
        sink.hand_off = Some(0);
    }
    // Calls of offered tools nobody can run here (a filter's `extra_tools`) are answered
    // "Tool not found", as the reference does, so the model still finishes its answer.
    let runs_tools = !offered.is_empty() && settings.tools.mode == ToolMode::Pipeline;
    let routing = Routing::for_answer(settings, &target.id, req.task.is_some());
    let started = std::time::Instant::now();
    let mut rounds = Rounds::default();
    // Something to read while a slow model starts (background tasks show nothing).
    if req.task.is_none()
        && !sink
            .opening(Emit::status(crate::stream::mapper::THINKING, false))
            .await
    {
        return Outcome::Failed;
    }
    for round in 1.. {
        let input = TurnInput {
            settings,
            outbound: &outbound,
            streaming,
            mapper: MapperOptions {
                thinking_mode: settings.stream.thinking_mode,
                show_final_usage: settings.stream.show_final_usage,
                model_label: target.label.clone(),
                model_id: target.id.clone(),
                usage_before: rounds.usage.clone(),
                elapsed_before: started.elapsed(),
                defer_final_on_calls: runs_tools,
                card_style: card_style.clone(),
            },
            routing: &routing,
        };
        let mut attempt = 1;
        let result = loop {
            let upstream = crate::sessionlog::phase(crate::sessionlog::timing::Phase::Upstream);
            let sent = run_turn(&input, sink).await;
            drop(upstream);
            match sent {
                Ok(result) => break result,
                Err(failure) => match retry::next_wait(&failure, attempt, started.elapsed()) {
                    Some(wait) => {
                        let line = retry::waiting_line(&failure, wait);
                        if !sink.send(Emit::status(line, false)).await {
                            return Outcome::Failed;
                        }
                        let _ = sink.flush().await;
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    None => {
                        gate::failed(req, settings, &failure);
                        send_all(sink, final_failure(&failure, &target, &card_style)).await;
                        let _ = sink.flush().await;
                        return Outcome::Failed;
                    }
                },
            }
        };
        rounds.add(&result);
        if settings.redis.costs_dump {
            crate::scaleout::costs::record(
                &cost_caller(req, &target),
                result.usage.as_ref(),
                settings.redis.costs_ttl,
                settings.redis.cache_enabled,
            );
        }
        if !runs_tools || result.function_calls.is_empty() || !result.answered() {
            break;
        }
        // Without this, napping workers would delay every host reply and the next
        // round's first bytes (measured: 40–120 ms per round).
        sink.await_next_token();
        let tools = crate::sessionlog::phase(crate::sessionlog::timing::Phase::Tools);
        let outcomes = run_calls(
            &result.function_calls,
            &toolbox,
            &settings.tools,
            settings.artifacts.breaker,
            host,
            sink,
        )
        .await;
        drop(tools);
        if !continue_with(&mut outbound, &result, &outcomes, sink).await {
            return Outcome::Failed;
        }
        if round >= settings.tools.max_rounds {
            let closing = tool_rounds::limit_reached(
                settings,
                &card_style,
                rounds.usage.as_ref(),
                started.elapsed(),
            );
            send_all(sink, closing).await;
            break;
        }
    }
    let _ = sink.flush().await;
    if rounds.last_answered {
        Outcome::Answered
    } else {
        Outcome::Failed
    }
}

/// Shows what the tools did and adds the round's items and the tools' answers to the
/// next round's input (OpenRouter keeps no state between rounds). False once nobody
/// listens any more.
async fn continue_with<S: Sink, H: Host>(
    outbound: &mut translate::Outbound,
    round: &TurnResult,
    outcomes: &[CallOutcome],
    sink: &mut Tap<'_, S, H>,
) -> bool {
    let mut items = tool_rounds::round_items(round);
    for outcome in outcomes {
        let item = output_item(&outcome.call, &outcome.text);
        let markers = sink.session.record_engine_item(&item);
        if !send_all(sink, markers).await {
            return false;
        }
        if !sink
            .send(Emit::Content(tool_block(&outcome.call, &outcome.text)))
            .await
        {
            return false;
        }
        items.push(item);
    }
    if let Some(input) = outbound.body.get_mut("input").and_then(Value::as_array_mut) {
        input.extend(items);
    }
    let flushed = sink.flush().await;
    sink.await_next_token();
    flushed
}

/// Who a cost snapshot is for; the model as Open WebUI lists it (`<pipe id>.<model>`).
fn cost_caller(req: &ChatRequest, target: &Target) -> crate::scaleout::costs::Caller {
    let prefix = format!("{}.", req.pipe_id);
    let model = req
        .body
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| m.starts_with(&prefix))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{prefix}{}", crate::catalog::sanitize_model_id(&target.id)));
    crate::scaleout::costs::Caller {
        pipe_id: req.pipe_id.clone(),
        user_id: req.user_id.clone().unwrap_or_default(),
        email: req.user_email.clone().unwrap_or_default(),
        name: req.user_name.clone().unwrap_or_default(),
        model,
    }
}

/// What the rounds of one answer add up to.
#[derive(Debug, Default)]
struct Rounds {
    /// Usage summed over every round so far.
    usage: Option<Value>,
    last_answered: bool,
}

impl Rounds {
    fn add(&mut self, round: &TurnResult) {
        self.usage = match (self.usage.take(), &round.usage) {
            (Some(total), Some(now)) => Some(crate::stream::usage::add(&total, now)),
            (total, now) => now.clone().or(total),
        };
        self.last_answered = round.answered();
        crate::sessionlog::note_usage(self.usage.as_ref());
    }
}

/// The card for a round that got no answer and will not be retried.
fn final_failure(failure: &UpstreamError, target: &Target, style: &CardStyle) -> Vec<Emit> {
    let ctx = ErrorContext {
        model_label: target.label.clone(),
        model_id: target.id.clone(),
        style: style.clone(),
    };
    match failure {
        UpstreamError::Transport { detail, timed_out } => {
            errors::transport_error_emits(detail, *timed_out, &ctx)
        }
        UpstreamError::Status {
            status,
            headers,
            body,
        } => errors::http_error_emits(*status, headers, body, &ctx),
    }
}

/// Checks that need no network: the API key, and a warning for a bad referer override.
async fn preflight<S: Sink>(settings: &Settings, sink: &mut S) -> bool {
    if http::referer(settings).1 {
        let warning = Emit::Notification {
            level: NoticeLevel::Warning,
            content: "HTTP_REFERER_OVERRIDE must be a full URL starting with http:// or https://; \
                      using the default referer."
                .into(),
        };
        if !sink.send(warning).await {
            return false;
        }
    }
    if settings.connection.api_key().is_empty() {
        send_all(sink, super::notices::missing_api_key()).await;
        let _ = sink.flush().await;
        return false;
    }
    true
}
