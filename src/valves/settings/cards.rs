//! The operator's error-card wording: one template valve per failure class and the
//! support contacts. It exists so the valve names stay here; which failure uses which
//! class is decided in `errors::CardClass::of`.

use super::raw::Raw;
use crate::errors::{CardClass, CardTemplates};

/// Each class and the valve holding its template.
const TEMPLATE_VALVES: &[(CardClass, &str)] = &[
    (CardClass::OpenRouter, "OPENROUTER_ERROR_TEMPLATE"),
    (CardClass::Authentication, "AUTHENTICATION_ERROR_TEMPLATE"),
    (
        CardClass::InsufficientCredits,
        "INSUFFICIENT_CREDITS_TEMPLATE",
    ),
    (CardClass::RateLimit, "RATE_LIMIT_TEMPLATE"),
    (CardClass::ServerTimeout, "SERVER_TIMEOUT_TEMPLATE"),
    (CardClass::PayloadTooLarge, "PAYLOAD_TOO_LARGE_TEMPLATE"),
    (CardClass::Service, "SERVICE_ERROR_TEMPLATE"),
    (CardClass::NetworkTimeout, "NETWORK_TIMEOUT_TEMPLATE"),
    (CardClass::Connection, "CONNECTION_ERROR_TEMPLATE"),
    (CardClass::StreamInterrupted, "STREAM_INTERRUPTED_TEMPLATE"),
    (CardClass::Internal, "INTERNAL_ERROR_TEMPLATE"),
    (CardClass::ModelRestricted, "MODEL_RESTRICTED_TEMPLATE"),
    (CardClass::ServerBusy, "SERVER_BUSY_TEMPLATE"),
];

/// Reads the template valves (blank = built-in card) and the support contacts.
pub(super) fn read(raw: &Raw) -> CardTemplates {
    let mut templates = CardTemplates::with_support(
        raw.str("SUPPORT_EMAIL").trim().to_string(),
        raw.str("SUPPORT_URL").trim().to_string(),
    );
    for (class, valve) in TEMPLATE_VALVES {
        templates.set(*class, raw.str(valve));
    }
    templates
}
