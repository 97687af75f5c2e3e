//! The layer in front of the upstream send, the policy: whether a request goes to
//! OpenRouter at all, and what the user is told when it does not. In order:
//!
//! 1. a key the catalog check found refused (HTTP 401) is answered at once with the
//!    authentication card (`catalog::key_check`);
//! 2. a user whose requests keep failing is paused: the per-user request breaker
//!    (`BREAKER_*` valves) answers "paused for N s" without a request;
//! 3. admission ([`super::admission`]): a free slot, or a place in line with the status
//!    "Waiting for a free slot…", or, when the line is full, the busy card at once.
//!
//! Afterwards [`answered`] and [`failed`] feed the breaker (and an answer confirms the
//! key). Which failures count against a user: only chats' failures that survived the
//! retries and that the user's message did not cause: connection failures, timeouts,
//! 408, 425, 429 and 5xx. A 400 (context too long, bad input), 401, 402, 403, 404 or 413
//! is explained by its own card, and repeating it hammers nothing the breaker protects.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::admission::{Admission, Entry, Lane, Limits, Permit};
use super::request::ChatRequest;
use super::sink::{send_all, Sink};
use crate::artifacts::breaker::Breaker;
use crate::catalog::key_check;
use crate::emit::{Emit, LogLevel};
use crate::errors::{self, ErrorContext};
use crate::http::{StatusClass, UpstreamError};
use crate::valves::Settings;

/// The status shown while a request waits in line.
pub const WAITING_STATUS: &str = "Waiting for a free slot…";

/// A request that may go upstream; holds its slot until dropped.
pub struct Admitted {
    _slot: Permit,
}

/// Decides whether `req` is sent; `None` means its answer (a card) was already sent to
/// `sink`, or nobody listens any more.
pub async fn admit<S: Sink>(
    req: &ChatRequest,
    settings: &Settings,
    sink: &mut S,
) -> Option<Admitted> {
    // Built only for a refusal: an admitted request never renders a card here.
    let ctx = || ErrorContext {
        style: super::cards::card_style(req, settings),
        ..ErrorContext::default()
    };
    if let Some(message) = key_check::refused(settings).await {
        send_all(sink, errors::key_rejected_emits(message.as_deref(), &ctx())).await;
        return None;
    }
    if let Some(wait) = request_breaker(settings).blocked_for(user(req)) {
        send_all(sink, errors::paused_emits(wait, &ctx())).await;
        return None;
    }
    let lane = if req.task.is_some() {
        Lane::Task
    } else {
        Lane::Chat
    };
    let limits = Limits {
        concurrent: settings.admission.max_concurrent,
        queued: settings.admission.max_queued,
    };
    match Admission::shared(limits).enter(lane) {
        Entry::Admitted(slot) => Some(Admitted { _slot: slot }),
        Entry::Busy { in_flight, queued } => {
            send_all(sink, errors::busy_emits(in_flight, queued, &ctx().style)).await;
            None
        }
        Entry::Queued(place) => {
            if !sink.send(Emit::status(WAITING_STATUS, false)).await || !sink.flush().await {
                return None;
            }
            // Cancelling the chat drops this future, which leaves the line at once.
            let Some(slot) = place.admitted().await else {
                send_all(sink, errors::busy_emits(0, 0, &ctx().style)).await;
                return None;
            };
            let waited = format!("Waited {} ms for a free slot", slot.waited().as_millis());
            if !send_all(
                sink,
                vec![admitted_status(), Emit::log(LogLevel::Debug, waited)],
            )
            .await
            {
                return None;
            }
            Some(Admitted { _slot: slot })
        }
    }
}

/// The request was answered: the key works, and a chat's answer clears its user's
/// failures (tasks neither count nor clear them).
pub fn answered(req: &ChatRequest, settings: &Settings) {
    if req.task.is_none() {
        request_breaker(settings).record_success(user(req));
    }
    key_check::mark_accepted(
        &settings.connection.base_url,
        &settings.connection.api_key(),
    );
}

/// A round got no answer and will not be retried. (A 401 here is not remembered as a
/// refused key: only the catalog check decides that, so one odd answer cannot lock
/// every chat out.)
pub fn failed(req: &ChatRequest, settings: &Settings, failure: &UpstreamError) {
    if counts_against_user(failure) && req.task.is_none() {
        request_breaker(settings).record_failure(user(req));
    }
}

/// Transport failures, 408/425/429 and 5xx: OpenRouter or the network could not answer.
fn counts_against_user(failure: &UpstreamError) -> bool {
    failure.status_class() != StatusClass::Client
}

fn user(req: &ChatRequest) -> &str {
    req.user_id.as_deref().unwrap_or("")
}

fn request_breaker(settings: &Settings) -> &'static Breaker {
    static BREAKER: OnceLock<Breaker> = OnceLock::new();
    Breaker::shared(&BREAKER, settings.admission.request_breaker)
}

/// Ends the waiting line's spinner and hides it once the request is on its way.
fn admitted_status() -> Emit {
    let mut extra = Map::new();
    extra.insert("hidden".into(), Value::Bool(true));
    Emit::Status {
        description: WAITING_STATUS.into(),
        done: true,
        extra,
    }
}
