//! The error-card style of one request: the admin's templates from the settings, and the
//! request's own facts (ids, endpoint, timeout) that templates may mention. It exists so
//! every card of an answer, wherever it is rendered, is built from the same style.

use super::request::ChatRequest;
use crate::emit::{Emit, LogLevel};
use crate::errors::{CardStyle, ErrorKind, ErrorReport, RequestFacts};
use crate::valves::Settings;

/// The style every card of this request is rendered with.
pub fn card_style(req: &ChatRequest, settings: &Settings) -> CardStyle {
    let connection = &settings.connection;
    let timeout = connection
        .total_timeout
        .unwrap_or(connection.read_idle_timeout);
    let id = |v: &Option<String>| v.clone().unwrap_or_default();
    CardStyle::new(
        settings.cards.clone(),
        RequestFacts {
            session_id: id(&req.session_id),
            user_id: id(&req.user_id),
            chat_id: id(&req.chat_id),
            message_id: id(&req.message_id),
            endpoint: format!("{}/responses", connection.base_url),
            timeout_seconds: Some(timeout.as_secs()),
            normalized_model_id: req.model_suffix(),
            ..RequestFacts::default()
        },
    )
}

/// The model is outside the admin's `MODEL_ID` selection: the built-in note, or the
/// admin's `MODEL_RESTRICTED_TEMPLATE`.
pub fn model_not_enabled(
    label: &str,
    model_id: &str,
    settings: &Settings,
    style: &CardStyle,
) -> Vec<Emit> {
    let mut report = ErrorReport::new(ErrorKind::ModelRestricted);
    report.model_label = label.to_owned();
    report.model_id = model_id.to_owned();
    report.restriction = Some((
        "MODEL_ID valve".into(),
        settings.catalog.model_id.trim().into(),
    ));
    let shown = style.card(&report, || super::notices::model_not_enabled_note(label));
    let mut log = format!(
        "[{}] Refused a request for {label}: not in MODEL_ID",
        report.error_id
    );
    if let Some(problem) = shown.problem {
        log.push_str(&format!(
            " (the model_restricted template was not used: {problem}; the built-in note was shown)"
        ));
    }
    vec![
        Emit::Content(shown.markdown),
        Emit::status("Model not enabled", true),
        Emit::log(LogLevel::Info, log),
    ]
}
