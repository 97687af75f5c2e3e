//! Non-streaming `/responses` bodies, mapped to the same emits a stream would give.

use serde_json::{json, Value};

use super::super::items::{item_key, ItemKind};
use super::{ResponseMapper, Termination};
use crate::emit::Emit;
use crate::errors::redact::{redact, truncate};
use crate::errors::{self, ErrorContext, ErrorEmits, ErrorKind, ErrorReport};

impl ResponseMapper {
    /// Maps a complete non-streaming `/responses` JSON body to the same emits a stream
    /// of it would have produced (text, reasoning, sources, usage, final status).
    ///
    /// Bodies with an `error` object (a 200 carrying an HTTP-style error, or a response
    /// with `status: "failed"`) end with an error card instead; an unreadable body too.
    pub fn on_complete_body(&mut self, body: &str, out: &mut Vec<Emit>) {
        if self.finished {
            return;
        }
        let ctx = ErrorContext {
            model_label: self.options.model_label.clone(),
            model_id: String::new(),
            style: self.options.card_style.clone(),
        };
        let parsed = serde_json::from_str::<Value>(body.trim())
            .ok()
            .filter(Value::is_object);
        let Some(resp) = parsed else {
            let mut report = ErrorReport::new(ErrorKind::Internal);
            report.model_label = ctx.model_label.clone();
            report.message = Some("OpenRouter sent a response that is not valid JSON (an error page from a proxy or gateway?).".into());
            let shown = truncate(&redact(body.trim()), errors::parse::RAW_EXCERPT_MAX);
            report.raw_excerpt = (!shown.is_empty()).then_some(shown);
            report.retryable = true;
            let emits = ErrorEmits::new(
                report,
                errors::PROVIDER_ERROR_STATUS,
                "OpenRouter response unreadable",
                &ctx.style,
            );
            self.end_with(emits, out);
            return;
        };
        self.response_meta(Some(&resp));
        let status = resp.get("status").and_then(Value::as_str);
        let error = resp.get("error").filter(|e| e.is_object());
        if let Some(err) = error {
            let has_output = resp.get("output").is_some_and(Value::is_array);
            let http_status = err
                .get("code")
                .and_then(Value::as_u64)
                .filter(|c| (400..600).contains(c));
            if let (Some(code), false) = (http_status, has_output) {
                // An HTTP-style error envelope delivered with a 2xx status.
                let ctx = ErrorContext {
                    model_id: self.requested_model(),
                    ..ctx
                };
                let code = code as u16;
                self.failure = Some(json!({"type": "error", "error": err}));
                let report = errors::parse::report_from_http(code, &[], body, &ctx);
                let emits = ErrorEmits::new(
                    report,
                    errors::PROVIDER_ERROR_STATUS,
                    "OpenRouter rejected the request",
                    &ctx.style,
                );
                self.end_with(emits, out);
                return;
            }
        }
        if let Some(output) = resp.get("output").and_then(Value::as_array) {
            for (i, item) in output.iter().enumerate() {
                if ItemKind::of(item) == ItemKind::WebSearch {
                    let key = item_key(item, Some(i as u64));
                    self.web.started(&key, out);
                }
            }
            self.sweep_output(output, out);
        }
        if let Some(u) = resp.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(u.clone());
        }
        self.termination = if status == Some("failed") || error.is_some() {
            self.failure = Some(json!({"type": "response.failed", "response": resp}));
            Termination::Failed
        } else if status == Some("incomplete") {
            let reason = resp
                .pointer("/incomplete_details/reason")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            Termination::Incomplete(reason.to_owned())
        } else {
            Termination::Completed
        };
        self.finish(None, out);
    }

    /// Ends a body that could not be mapped with the given error card.
    fn end_with(&mut self, emits: ErrorEmits, out: &mut Vec<Emit>) {
        self.finished = true;
        self.termination = Termination::Failed;
        if let Emit::Content(card) = &emits.card {
            self.text.push_str(card);
        }
        out.extend(emits.into_vec());
    }
}
