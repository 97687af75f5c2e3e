//! The round-limit note speaks the error templates' language and never ends up empty.

use std::time::Duration;

use super::*;
use crate::errors::{CardTemplates, RequestFacts};

fn note(template: &str, support_email: &str) -> String {
    let mut settings = Settings::default();
    settings.tools.max_rounds = 4;
    settings.tools.limit_template = template.into();
    let style = CardStyle::new(
        CardTemplates::with_support(support_email.into(), String::new()),
        RequestFacts::default(),
    );
    let emits = limit_reached(&settings, &style, None, Duration::from_secs(1));
    emits
        .iter()
        .find_map(|e| match e {
            Emit::Content(text) => Some(text.trim().to_owned()),
            _ => None,
        })
        .expect("a note")
}

#[test]
fn the_limit_template_uses_placeholders_and_blocks() {
    let template = "Stopped after {max_function_call_loops} rounds.\n\
                    {{#if support_email}}Ask {support_email}.{{/if}}\n\
                    Session: {session_id}";
    assert_eq!(
        note(template, "help@example.com"),
        "Stopped after 4 rounds.\nAsk help@example.com."
    );
    assert_eq!(note(template, ""), "Stopped after 4 rounds.");
}

#[test]
fn a_broken_limit_template_gives_the_built_in_note() {
    let shown = note("{{#if support_email}}never closed", "x@example.com");
    assert!(
        shown.starts_with("### 🧰 Tool step limit reached"),
        "{shown}"
    );
    assert!(shown.contains("**Current limit:** `4`"), "{shown}");
    assert_eq!(
        note("", ""),
        shown,
        "empty and broken both give the built-in note"
    );
}
