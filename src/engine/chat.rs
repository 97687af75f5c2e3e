//! One chat turn against OpenRouter's `/responses`: resolve the model, translate the
//! request, send it, and turn the answer (stream or JSON) into emits for a [`Sink`].

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::time::sleep_until;

use super::artifacts::ArtifactSession;
use super::request::{guess_openrouter_id, ChatRequest};
use super::sink::Sink;
use crate::catalog::{self, CatalogError, Model};
use crate::errors::{self, ErrorContext};
use crate::http;
use crate::runtime::pace;
use crate::sse::{SseFrame, SseParser};
use crate::stream::emit::{Emit, LogLevel, NoticeLevel};
use crate::stream::mapper::{MapperOptions, ResponseMapper, Termination};
use crate::translate::{self, Outbound, TranslateContext};
use crate::valves::Settings;

/// Largest non-streaming body read into memory.
const MAX_JSON_BODY: usize = 64 * 1024 * 1024;

/// The model a request goes to.
struct Target {
    id: String,
    label: String,
    model: Option<Model>,
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The model answered (possibly cut short by its output limit).
    Answered,
    /// Nothing usable came back; the answer holds an explanation instead.
    Failed,
}

/// Runs one request to completion, sending everything to `sink`. Never fails: every
/// problem becomes a visible message in the answer.
pub async fn run<S: Sink>(req: &ChatRequest, sink: &mut S) -> Outcome {
    let settings = req.settings();
    let mut session = ArtifactSession::open(req, &settings).await;
    let outcome = {
        let mut tap = Tap {
            sink: &mut *sink,
            session: &mut session,
        };
        let notices = tap.session.take_notices();
        send_all(&mut tap, notices).await;
        answer(req, &settings, &mut tap).await
    };
    let closing = session.closing_markers();
    send_all(sink, closing).await;
    session
        .finish(&settings, outcome == Outcome::Answered)
        .await;
    let _ = sink.flush().await;
    outcome
}

/// Emits pass through the artifact session on their way to the sink, which turns item
/// boundaries into marker lines and queued rows.
struct Tap<'a, S: Sink> {
    sink: &'a mut S,
    session: &'a mut ArtifactSession,
}

impl<S: Sink> Sink for Tap<'_, S> {
    async fn send(&mut self, emit: Emit) -> bool {
        for out in self.session.intercept(emit) {
            if !self.sink.send(out).await {
                return false;
            }
        }
        true
    }

    fn deadline(&self) -> Option<std::time::Instant> {
        self.sink.deadline()
    }

    async fn flush(&mut self) -> bool {
        self.sink.flush().await
    }
}

/// Everything between the artifact session opening and closing: one request/answer.
async fn answer<S: Sink>(req: &ChatRequest, settings: &Settings, sink: &mut Tap<'_, S>) -> Outcome {
    let streaming = req.wants_stream() && req.task.is_none();
    if !preflight(settings, sink).await {
        return Outcome::Failed;
    }
    let target = match resolve_target(req, settings).await {
        Ok(t) => t,
        Err(emits) => {
            send_all(sink, emits).await;
            let _ = sink.flush().await;
            return Outcome::Failed;
        }
    };
    let empty = Vec::new();
    let messages = req
        .body
        .get("messages")
        .and_then(serde_json::Value::as_array)
        .unwrap_or(&empty);
    let history = sink.session.history(messages).await;
    let ctx = TranslateContext {
        history: Some(&history),
        settings,
        model: target.model.as_ref(),
        model_id: &target.id,
        stream: streaming,
        task: req.task.is_some(),
        features: &req.features,
        user_id: req.user_id.as_deref(),
        session_id: req.session_id.as_deref(),
        chat_id: req.chat_id.as_deref(),
        message_id: req.message_id.as_deref(),
    };
    let outbound = translate::build(&req.body, &ctx);
    sink.session
        .delete_after_success(outbound.reasoning_to_delete.clone());
    let ctx = ErrorContext {
        model_label: target.label.clone(),
        model_id: target.id.clone(),
    };
    let options = MapperOptions {
        thinking_mode: settings.thinking_mode(),
        show_final_usage: settings.bool("SHOW_FINAL_USAGE_STATUS"),
        model_label: target.label.clone(),
    };
    let response = match send(settings, &outbound, streaming).await {
        Ok(r) => r,
        Err(err) => {
            let emits =
                errors::transport_error_emits(&http::describe_error(&err), err.is_timeout(), &ctx);
            send_all(sink, emits).await;
            let _ = sink.flush().await;
            return Outcome::Failed;
        }
    };
    let status = response.status();
    if !status.is_success() {
        let headers = header_pairs(response.headers());
        let body = read_capped(response, 256 * 1024).await;
        let emits = errors::http_error_emits(status.as_u16(), &headers, &body, &ctx);
        send_all(sink, emits).await;
        let _ = sink.flush().await;
        return Outcome::Failed;
    }
    let mut mapper = ResponseMapper::new(options);
    if streaming {
        pump_stream(response, &mut mapper, sink).await;
    } else {
        let text = read_capped(response, MAX_JSON_BODY).await;
        let mut emits = Vec::new();
        mapper.on_complete_body(&text, &mut emits);
        send_all(sink, emits).await;
    }
    let _ = sink.flush().await;
    match mapper.termination {
        Termination::Completed | Termination::Incomplete(_) => Outcome::Answered,
        Termination::Open | Termination::Failed | Termination::Interrupted => Outcome::Failed,
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
    if settings.api_key().is_empty() {
        send_all(sink, super::notices::missing_api_key()).await;
        let _ = sink.flush().await;
        return false;
    }
    true
}

async fn resolve_target(req: &ChatRequest, settings: &Settings) -> Result<Target, Vec<Emit>> {
    let suffix = req.model_suffix();
    if suffix.is_empty() {
        return Err(super::notices::no_model());
    }
    match catalog::models(settings).await {
        Ok(models) => match catalog::resolve(&models, &suffix) {
            Some(model) if req.task.is_none() && !allowed(settings, &models, model) => {
                Err(super::notices::model_not_enabled(model.display_name()))
            }
            Some(model) => Ok(Target {
                id: model.id.clone(),
                label: model.display_name().to_string(),
                model: Some(model.clone()),
            }),
            None => {
                let guess = guess_openrouter_id(&suffix);
                crate::logsink::log(
                    LogLevel::Warning,
                    format!("Model '{suffix}' is not in the OpenRouter catalog; sending it as '{guess}'"),
                );
                Ok(Target {
                    label: guess.clone(),
                    id: guess,
                    model: None,
                })
            }
        },
        Err(CatalogError::MissingApiKey) => Err(super::notices::missing_api_key()),
        Err(CatalogError::Unavailable(why)) => {
            let guess = guess_openrouter_id(&suffix);
            crate::logsink::log(
                LogLevel::Warning,
                format!("Catalog unavailable ({why}); sending the request to '{guess}' anyway"),
            );
            Ok(Target {
                label: guess.clone(),
                id: guess,
                model: None,
            })
        }
    }
}

/// `MODEL_ID` applies to requests too, not only to the model list: a model an admin did
/// not enable cannot be reached through the API either. Background tasks are exempt (Open
/// WebUI may send them to any model).
fn allowed(settings: &Settings, models: &[Model], model: &Model) -> bool {
    let (chosen, _) = catalog::select::select(&settings.str("MODEL_ID"), models);
    chosen.len() == models.len() || chosen.iter().any(|m| m.id == model.id)
}

async fn send(
    settings: &Settings,
    outbound: &Outbound,
    streaming: bool,
) -> Result<reqwest::Response, reqwest::Error> {
    let client = http::client(http::Timeouts::from_settings(settings));
    let mut request = client
        .post(format!("{}/responses", settings.base_url()))
        .headers(http::request_headers(
            settings,
            &settings.api_key(),
            streaming,
        ))
        .body(outbound.body.to_string());
    for (name, value) in &outbound.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    if let Some(total) = http::total_timeout(settings) {
        request = request.timeout(total);
    }
    request.send().await
}

/// Reads the SSE body, feeding the mapper and flushing coalesced text on time.
async fn pump_stream<S: Sink>(
    response: reqwest::Response,
    mapper: &mut ResponseMapper,
    sink: &mut S,
) {
    let mut body = response.bytes_stream();
    let mut parser = SseParser::new();
    let mut frames = Vec::new();
    let mut emits = Vec::new();
    // Whether the connection task got one turn to hand over frames it already holds
    // before held text is flushed (so a batch read after a nap goes out as one chunk).
    let mut drained = false;
    // Whether the body was checked for being a whole document instead of an event stream.
    let mut sniffed = false;
    loop {
        let next = match sink.deadline() {
            Some(deadline) => tokio::select! {
                biased;
                next = body.next() => next,
                _ = until(pace::due(deadline)) => {
                    if !drained {
                        drained = true;
                        tokio::task::yield_now().await;
                        continue;
                    }
                    drained = false;
                    if !sink.flush().await { return; }
                    continue;
                }
            },
            None => body.next().await,
        };
        drained = false;
        let mut ended = false;
        let mut transport_error = None;
        match next {
            Some(Ok(bytes)) if !sniffed && !is_blank(&bytes) => {
                sniffed = true;
                if is_document(&bytes) {
                    let text = collect_capped(&mut body, bytes.to_vec(), MAX_JSON_BODY).await;
                    mapper.on_complete_body(&text, &mut emits);
                    send_all(sink, emits).await;
                    return;
                }
                parser.push(&bytes, &mut frames)
            }
            Some(Ok(bytes)) => parser.push(&bytes, &mut frames),
            Some(Err(err)) => {
                transport_error = Some(http::describe_error(&err));
                ended = true;
            }
            None => {
                parser.finish(&mut frames);
                ended = true;
            }
        }
        let mut done = false;
        let mut terminal = false;
        for frame in frames.drain(..) {
            match frame {
                SseFrame::Data(data) if !done && !terminal => {
                    terminal = mapper.on_data(&data, &mut emits);
                }
                SseFrame::Data(_) => {}
                SseFrame::Done => done = true,
            }
        }
        if done || ended || terminal {
            mapper.finish(transport_error.as_deref(), &mut emits);
            send_all(sink, emits).await;
            if !ended {
                release_connection(body).await;
            }
            return;
        }
        if !send_all(sink, std::mem::take(&mut emits)).await {
            return;
        }
    }
}

/// Reads what is left of a finished answer's body (`[DONE]`, the chunk terminator) so
/// the connection goes back to the pool; it usually is already there. A server that keeps
/// the stream open after the terminal event would hold the chat open until the read
/// timeout, so after a short wait the rest is read in the background, within limits.
async fn release_connection<B>(mut body: B)
where
    B: futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin + Send + 'static,
{
    const PROMPT: Duration = Duration::from_millis(50);
    const PATIENT: Duration = Duration::from_secs(10);
    if tokio::time::timeout(PROMPT, read_to_end(&mut body))
        .await
        .is_err()
    {
        tokio::spawn(async move {
            let _ = tokio::time::timeout(PATIENT, read_to_end(&mut body)).await;
        });
    }
}

/// Reads a body to its end, giving up (and so closing the connection) after 1 MiB.
async fn read_to_end<B>(body: &mut B)
where
    B: futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
{
    const LIMIT: usize = 1024 * 1024;
    let mut read = 0;
    while let Some(Ok(chunk)) = body.next().await {
        read += chunk.len();
        if read > LIMIT {
            return;
        }
    }
}

/// Resolves at `due`. A time already reached resolves at once: a tokio timer rounds up
/// to its next millisecond tick, which a napping runtime only sees a whole nap later.
async fn until(due: Instant) {
    if due > Instant::now() {
        sleep_until(due.into()).await;
    }
}

async fn send_all<S: Sink>(sink: &mut S, emits: Vec<Emit>) -> bool {
    for emit in emits {
        if !sink.send(emit).await {
            return false;
        }
    }
    true
}

fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| name.as_str() != "set-cookie")
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Reads at most `cap` bytes of a body (error pages can be huge); lossy UTF-8.
async fn read_capped(response: reqwest::Response, cap: usize) -> String {
    collect_capped(&mut response.bytes_stream(), Vec::new(), cap).await
}

/// Appends the rest of `body` to `buf`, up to `cap` bytes in all; lossy UTF-8.
async fn collect_capped<B>(body: &mut B, mut buf: Vec<u8>, cap: usize) -> String
where
    B: futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
{
    buf.truncate(cap);
    while buf.len() < cap {
        let Some(Ok(chunk)) = body.next().await else {
            break;
        };
        let room = cap - buf.len();
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// A streamed request answered with a whole JSON document or an HTML page instead of
/// events (a proxy that ignores `stream`, an error envelope sent with 200, a gateway's
/// error page): an event stream starts with a field name or a comment, never `{` or `<`.
fn is_document(first: &[u8]) -> bool {
    let first = first.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(first);
    matches!(
        first.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'<' | b'[')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_told_apart_from_event_streams() {
        assert!(is_document(b"{\"error\":{}}"));
        assert!(is_document(b"\r\n  <html>"));
        assert!(is_document(b"\xEF\xBB\xBF{}"));
        assert!(!is_document(b"data: {\"type\":\"x\"}\n\n"));
        assert!(!is_document(b": OPENROUTER PROCESSING\n\n"));
        assert!(!is_document(b"event: x\n"));
        assert!(is_blank(b" \r\n") && !is_blank(b"\n:"));
    }
}
