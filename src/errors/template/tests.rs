//! The template language on the cases the reference pipe documents and on hostile input:
//! conditionals, missing values, unknown placeholders, broken templates, huge texts, and a
//! randomised run showing it never panics.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn values(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

fn ok(template: &str, pairs: &[(&'static str, &str)]) -> String {
    render(template, &values(pairs)).expect("template renders")
}

#[test]
fn placeholders_are_replaced_and_unknown_ones_stay() {
    assert_eq!(
        ok(
            "Error {error_id}: {message} {not_a_value}",
            &[("error_id", "abc"), ("message", "boom")]
        ),
        "Error abc: boom {not_a_value}"
    );
    assert_eq!(ok("{ spaced } {} {", &[("spaced", "x")]), "{ spaced } {} {");
    assert_eq!(ok("{{message}}", &[("message", "m")]), "{m}");
}

#[test]
fn a_line_with_an_empty_placeholder_is_dropped() {
    let t = "Line A\n- Req: {request_id}\nLine B\n- Provider: {provider}";
    assert_eq!(
        ok(t, &[("request_id", ""), ("provider", " ")]),
        "Line A\nLine B"
    );
    assert_eq!(
        ok(t, &[("request_id", "r1"), ("provider", "")]),
        "Line A\n- Req: r1\nLine B"
    );
}

#[test]
fn conditionals_show_blocks_only_for_present_values() {
    let t = "{{#if show}}Line {value}\n{{/if}}{{#if skip}}{missing}{{/if}}";
    assert_eq!(
        ok(t, &[("show", "yes"), ("value", "X"), ("skip", "")]),
        "Line X"
    );
    let block = "Head\n{{#if provider}}\n- **Provider:** {provider}\n{{/if}}\nTail";
    assert_eq!(
        ok(block, &[("provider", "Anthropic")]),
        "Head\n- **Provider:** Anthropic\nTail"
    );
    assert_eq!(ok(block, &[("provider", "")]), "Head\nTail");
    assert_eq!(ok(block, &[]), "Head\nTail", "an unknown condition is off");
    assert_eq!(
        ok("A {{#if x}}(x={x}){{/if}} B", &[("x", "")]),
        "A  B",
        "inline block off keeps the rest of the line"
    );
    assert_eq!(
        ok("A {{ #if  x }}(x={x}){{ /if }} B", &[("x", "1")]),
        "A (x=1) B"
    );
}

#[test]
fn blocks_nest_and_blank_lines_follow_their_block() {
    let t = "Top\n{{#if a}}\n\nA on\n{{#if b}}\n\nB on\n{{/if}}\n{{/if}}\n\nEnd";
    assert_eq!(
        ok(t, &[("a", "1"), ("b", "1")]),
        "Top\n\nA on\n\nB on\n\nEnd"
    );
    assert_eq!(ok(t, &[("a", "1"), ("b", "")]), "Top\n\nA on\n\nEnd");
    assert_eq!(ok(t, &[("a", ""), ("b", "1")]), "Top\n\nEnd");
}

#[test]
fn values_are_never_expanded_again() {
    let out = ok(
        "{message}",
        &[("message", "{error_id} {{#if x}}"), ("error_id", "SECRET")],
    );
    assert_eq!(out, "{error_id} {{#if x}}");
}

#[test]
fn crlf_templates_render_like_lf_ones() {
    assert_eq!(
        ok(
            "A {a}\r\n{{#if b}}\r\nB\r\n{{/if}}\r\nC",
            &[("a", "1"), ("b", "")]
        ),
        "A 1\nC"
    );
}

#[test]
fn broken_templates_say_why() {
    let r = |t: &str| render(t, &values(&[("x", "1")])).unwrap_err();
    assert_eq!(r("a\n{{#if x}}\nb"), TemplateError::UnclosedIf { line: 2 });
    assert_eq!(r("a\n{{/if}}"), TemplateError::StrayEndIf { line: 2 });
    assert!(matches!(
        r("{{#if}}x{{/if}}"),
        TemplateError::BadToken { line: 1, .. }
    ));
    assert!(matches!(
        r("{{#ifx}}x{{/if}}"),
        TemplateError::BadToken { .. }
    ));
    assert!(matches!(
        r("{{#each x}}y{{/each}}"),
        TemplateError::BadToken { .. }
    ));
    assert!(matches!(
        r("{{#if x y}}z{{/if}}"),
        TemplateError::BadToken { .. }
    ));
    assert!(matches!(r("{{#if x"), TemplateError::BadToken { .. }));
    assert!(matches!(r("{{/endif}}"), TemplateError::BadToken { .. }));
    let deep = "{{#if x}}".repeat(MAX_DEPTH + 1) + &"{{/if}}".repeat(MAX_DEPTH + 1);
    assert_eq!(r(&deep), TemplateError::TooDeep { line: 1 });
    let long = "x".repeat(MAX_TEMPLATE_CHARS + 1);
    assert_eq!(
        r(&long),
        TemplateError::TooLong {
            chars: MAX_TEMPLATE_CHARS + 1
        }
    );
    assert!(r("{{/if}}").to_string().contains("line 1"));
}

#[test]
fn huge_output_is_cut_with_a_mark() {
    let big = "y".repeat(5_000);
    let template = "{raw}\n".repeat(100);
    let out = ok(&template, &[("raw", &big)]);
    assert!(out.ends_with(CUT_MARK));
    assert!(out.chars().count() <= MAX_OUTPUT_CHARS + CUT_MARK.chars().count());
    let multibyte = "é".repeat(40_000);
    let out = ok("{raw}", &[("raw", &multibyte)]);
    assert!(out.ends_with(CUT_MARK), "a single long line is cut too");
}

#[test]
fn an_empty_template_renders_empty() {
    assert_eq!(ok("", &[]), "");
    assert_eq!(ok("{{#if x}}\n{{/if}}", &[("x", "1")]), "");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary text never panics and never produces more than the cap.
    #[test]
    fn arbitrary_text_never_panics(template in "\\PC{0,400}") {
        let v = values(&[("a", "1"), ("b", ""), ("message", "m")]);
        if let Ok(out) = render(&template, &v) {
            prop_assert!(out.chars().count() <= MAX_OUTPUT_CHARS + CUT_MARK.chars().count());
        }
    }

    /// Text built from the template's own tokens (the likely way to hit edge cases).
    #[test]
    fn token_soup_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            Just("{{#if a}}"), Just("{{#if b}}"), Just("{{/if}}"), Just("{{"), Just("}}"),
            Just("{a}"), Just("{b}"), Just("{c}"), Just("{"), Just("}"), Just("\n"),
            Just("\r\n"), Just(" "), Just("text"), Just("é"), Just("{{ #if  a }}"),
            Just("{{#"), Just("{{/"), Just("{{#if}}"),
        ],
        0..80,
    )) {
        let template: String = parts.concat();
        let v = values(&[("a", "x{b}y"), ("b", "")]);
        match render(&template, &v) {
            Ok(out) => prop_assert!(!out.contains("{{#if a}}") || template.contains("{{{{")),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
