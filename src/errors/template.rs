//! The operator template language of error cards, Sans-IO: a template and a table of
//! named values in, markdown out (or why the template cannot be used).
//!
//! It exists so an admin can word error cards in their own voice while the pipe keeps the
//! reference pipe's syntax, which templates written for it rely on:
//!
//! * `{name}` is replaced by the value of `name`. A name the pipe does not know stays as
//!   written (`{like this}`), so stray braces in prose survive.
//! * A line holding a known placeholder whose value is empty is dropped whole, so
//!   `- **Provider:** {provider}` disappears when no provider is known.
//! * `{{#if name}}` … `{{/if}}` keeps what is between them only when `name` has a
//!   non-empty value. Blocks nest, may span lines or sit inside one line, and allow spaces
//!   inside the braces (`{{ #if name }}`, `{{ /if }}`).
//! * A line made only of `{{…}}` tokens is dropped, and so is a line all of whose text is
//!   inside blocks that are off. Blank lines are kept where the blocks around them are on.
//! * The result is trimmed.
//!
//! Substitution is one pass: a value that itself contains `{name}` or `{{#if}}` is shown
//! as written, never expanded (provider messages cannot inject template text).
//!
//! A template is broken, and [`render`] says why, when an `{{#if}}` is never closed, an
//! `{{/if}}` closes nothing, an `{{#if}}` names nothing, a `{{#…}}` / `{{/…}}` token is not
//! one of the two above or is left open, blocks nest deeper than [`MAX_DEPTH`], or the
//! template is longer than [`MAX_TEMPLATE_CHARS`]. The caller then shows the built-in card.
//! Output is bounded by [`MAX_OUTPUT_CHARS`].

use std::collections::BTreeMap;
use std::fmt;

/// Longest template accepted (characters). Longer ones are treated as broken.
pub const MAX_TEMPLATE_CHARS: usize = 20_000;
/// Longest rendered card (characters); a longer one is cut and ends with [`CUT_MARK`].
pub const MAX_OUTPUT_CHARS: usize = 32_000;
/// Deepest nesting of `{{#if}}` blocks.
pub const MAX_DEPTH: usize = 32;
/// Appended to a card cut at [`MAX_OUTPUT_CHARS`].
pub const CUT_MARK: &str = "\n\n…(card shortened)";

/// Why a template cannot be used. Lines count from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// The template is longer than [`MAX_TEMPLATE_CHARS`].
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// An `{{#if}}` opened on this line is never closed.
    UnclosedIf {
        /// Where it was opened.
        line: usize,
    },
    /// An `{{/if}}` on this line has no `{{#if}}` to close.
    StrayEndIf {
        /// Where it stands.
        line: usize,
    },
    /// A `{{#…}}` or `{{/…}}` token on this line is not `{{#if name}}` or `{{/if}}`.
    BadToken {
        /// Where it stands.
        line: usize,
        /// The token as written (cut to 60 characters).
        token: String,
    },
    /// Blocks nest deeper than [`MAX_DEPTH`] on this line.
    TooDeep {
        /// Where the limit was passed.
        line: usize,
    },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { chars } => write!(
                f,
                "the template has {chars} characters, more than the {MAX_TEMPLATE_CHARS} allowed"
            ),
            Self::UnclosedIf { line } => {
                write!(f, "the {{{{#if}}}} on line {line} is never closed")
            }
            Self::StrayEndIf { line } => {
                write!(f, "the {{{{/if}}}} on line {line} closes no {{{{#if}}}}")
            }
            Self::BadToken { line, token } => write!(
                f,
                "line {line} has `{token}`, which is neither {{{{#if name}}}} nor {{{{/if}}}}"
            ),
            Self::TooDeep { line } => write!(
                f,
                "{{{{#if}}}} blocks nest deeper than {MAX_DEPTH} on line {line}"
            ),
        }
    }
}

impl std::error::Error for TemplateError {}

/// One piece of a template line.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    If(&'a str),
    EndIf,
}

/// Whether `c` may appear in a placeholder or condition name.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits a line into text and block tokens.
fn pieces(line: &str, line_no: usize) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("{{") {
        let after = &rest[at + 2..];
        let inner = after.trim_start();
        if !(inner.starts_with('#') || inner.starts_with('/')) {
            // `{{` that opens no block token is plain text; only its first brace is
            // passed over, so `{{{#if x}}` still finds its token.
            out.push(Piece::Text(&rest[..at + 1]));
            rest = &rest[at + 1..];
            continue;
        }
        let bad = |token: &str| TemplateError::BadToken {
            line: line_no,
            token: token.chars().take(60).collect(),
        };
        let Some(close) = after.find("}}") else {
            return Err(bad(&rest[at..]));
        };
        let body = after[..close].trim();
        let token = &rest[at..at + 2 + close + 2];
        let piece = if let Some(cond) = body.strip_prefix("#if") {
            let name = cond.trim();
            let separated = cond.starts_with(char::is_whitespace);
            if !separated || name.is_empty() || !name.chars().all(name_char) {
                return Err(bad(token));
            }
            Piece::If(name)
        } else if body
            .strip_prefix("/if")
            .is_some_and(|r| r.trim().is_empty())
        {
            Piece::EndIf
        } else {
            return Err(bad(token));
        };
        if at > 0 {
            out.push(Piece::Text(&rest[..at]));
        }
        out.push(piece);
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// Whether `name` has a value worth showing.
fn present(values: &BTreeMap<&str, String>, name: &str) -> bool {
    values.get(name).is_some_and(|v| !v.trim().is_empty())
}

/// Replaces every known `{name}` in `line` in one pass; `None` when one of them is empty
/// (the line is dropped).
fn substitute(line: &str, values: &BTreeMap<&str, String>) -> Option<String> {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let name_len = after.find(|c: char| !name_char(c)).unwrap_or(after.len());
        let name = &after[..name_len];
        match values.get(name) {
            Some(value) if !name.is_empty() && after[name_len..].starts_with('}') => {
                if value.trim().is_empty() {
                    return None;
                }
                out.push_str(value);
                rest = &after[name_len + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// Renders `template` with `values`. Every name the pipe knows is a key of `values`; an
/// empty value means "not known for this failure". See the module text for the rules.
pub fn render(template: &str, values: &BTreeMap<&str, String>) -> Result<String, TemplateError> {
    let chars = template.chars().count();
    if chars > MAX_TEMPLATE_CHARS {
        return Err(TemplateError::TooLong { chars });
    }
    // Each open block: whether its condition held, and the line it was opened on.
    let mut open: Vec<(bool, usize)> = Vec::new();
    let mut out = String::new();
    let mut out_chars = 0usize;
    let mut cut = false;
    for (index, raw_line) in template.split('\n').enumerate() {
        let line_no = index + 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let parts = pieces(line, line_no)?;
        let mut has_token = false;
        let mut kept = String::new();
        let mut active = open.iter().all(|(on, _)| *on);
        let active_at_start = active;
        for part in parts {
            match part {
                Piece::Text(text) if active => kept.push_str(text),
                Piece::Text(_) => {}
                Piece::If(name) => {
                    has_token = true;
                    if open.len() >= MAX_DEPTH {
                        return Err(TemplateError::TooDeep { line: line_no });
                    }
                    open.push((present(values, name), line_no));
                    active = open.iter().all(|(on, _)| *on);
                }
                Piece::EndIf => {
                    has_token = true;
                    if open.pop().is_none() {
                        return Err(TemplateError::StrayEndIf { line: line_no });
                    }
                    active = open.iter().all(|(on, _)| *on);
                }
            }
        }
        let keep = if has_token {
            !kept.trim().is_empty()
        } else {
            active_at_start
        };
        if !keep || cut {
            continue;
        }
        let Some(done) = substitute(&kept, values) else {
            continue;
        };
        let needed = done.chars().count() + usize::from(!out.is_empty());
        if out_chars + needed > MAX_OUTPUT_CHARS {
            if !out.is_empty() {
                out.push('\n');
            }
            let room = MAX_OUTPUT_CHARS.saturating_sub(out_chars + 1);
            out.extend(done.chars().take(room));
            cut = true;
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&done);
        out_chars += needed;
    }
    if let Some((_, line)) = open.first() {
        return Err(TemplateError::UnclosedIf { line: *line });
    }
    let mut card = out.trim().to_owned();
    if cut {
        card.push_str(CUT_MARK);
    }
    Ok(card)
}

#[cfg(test)]
mod tests;
