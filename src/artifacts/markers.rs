//! Hidden marker lines in assistant text.
//!
//! A marker is a line `[<id>]: #`: a Markdown link reference definition with an empty
//! target, which renders as nothing. Open WebUI keeps it in the stored message and sends
//! it back on the next turn, which is how a message finds its stored artifacts.
//!
//! A line is a marker only when the whole line, with surrounding whitespace removed, is
//! `[` + 20 Crockford characters + `]: #`. A marker sharing a line with other text is
//! ordinary text.

use crate::ids::{is_valid_id, ID_LEN};

const MARKER_PREFIX: &str = "[";
const MARKER_SUFFIX: &str = "]: #";

/// One piece of an assistant text, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Visible text (one or more whole lines, line ends included).
    Text(&'a str),
    /// The id of a marker line.
    Marker(&'a str),
}

/// The marker line for `id`, without a line end.
pub fn marker_line(id: &str) -> String {
    format!("{MARKER_PREFIX}{id}{MARKER_SUFFIX}")
}

/// The id when `line` (with or without its line end) is a marker line.
pub fn parse_marker_line(line: &str) -> Option<&str> {
    let t = line.trim();
    if t.len() != MARKER_PREFIX.len() + ID_LEN + MARKER_SUFFIX.len() {
        return None;
    }
    let id = t.strip_prefix(MARKER_PREFIX)?.strip_suffix(MARKER_SUFFIX)?;
    is_valid_id(id).then_some(id)
}

/// Splits `text` into text and marker segments, in order. Consecutive non-marker lines
/// form one text segment; empty text segments are left out.
pub fn split(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut text_start = 0usize;
    let mut pos = 0usize;
    for line in text.split_inclusive('\n') {
        let end = pos + line.len();
        if let Some(id) = parse_marker_line(line) {
            if text_start < pos {
                out.push(Segment::Text(&text[text_start..pos]));
            }
            out.push(Segment::Marker(id));
            text_start = end;
        }
        pos = end;
    }
    if text_start < text.len() {
        out.push(Segment::Text(&text[text_start..]));
    }
    out
}

/// The marker ids of `text`, in order of appearance (duplicates kept).
pub fn marker_ids(text: &str) -> Vec<&str> {
    text.split_inclusive('\n')
        .filter_map(parse_marker_line)
        .collect()
}

/// True when `text` holds at least one marker line.
pub fn has_markers(text: &str) -> bool {
    text.split_inclusive('\n')
        .any(|l| parse_marker_line(l).is_some())
}

/// `text` without its marker lines, for titles and anything shown as plain text.
///
/// Other lines are kept as they are. Blank lines that a removed marker leaves doubled
/// are collapsed, and when any marker was removed, trailing blank lines and spaces are
/// trimmed. Text without markers is returned unchanged.
pub fn strip(text: &str) -> String {
    if !has_markers(text) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    // Whether the last kept line is blank (or nothing was kept yet).
    let mut last_kept_blank = true;
    let mut after_marker = false;
    for line in text.split_inclusive('\n') {
        if parse_marker_line(line).is_some() {
            after_marker = true;
            continue;
        }
        let blank = line.trim().is_empty();
        if blank && after_marker && last_kept_blank {
            continue;
        }
        if !blank {
            after_marker = false;
        }
        out.push_str(line);
        last_kept_blank = blank;
    }
    let kept = out.trim_end().len();
    out.truncate(kept);
    out
}

/// Marker lines for `ids`, each ended by `\n`.
pub fn marker_block<S: AsRef<str>>(ids: &[S]) -> String {
    let mut out = String::with_capacity(ids.len() * (ID_LEN + 6));
    for id in ids {
        out.push_str(MARKER_PREFIX);
        out.push_str(id.as_ref());
        out.push_str(MARKER_SUFFIX);
        out.push('\n');
    }
    out
}

/// What to add after `text_so_far` to place markers for `ids` at this point of the
/// answer (empty when `ids` is empty).
///
/// A link reference definition cannot interrupt a paragraph, so the block starts after a
/// blank line; it also ends with a blank line, so the text streamed after it can never
/// be read as the definition's title. Emit the result as one content delta, so a
/// half-written marker is never shown.
pub fn marker_insertion<S: AsRef<str>>(text_so_far: &str, ids: &[S]) -> String {
    if ids.is_empty() {
        return String::new();
    }
    let mut out = String::from(separator_before(text_so_far));
    out.push_str(&marker_block(ids));
    out.push('\n');
    out
}

/// `text` with marker lines for `ids` appended after a blank line (the layout the
/// reference pipe writes: every marker after all visible text). Unchanged when `ids` is
/// empty.
pub fn append_markers<S: AsRef<str>>(text: &str, ids: &[S]) -> String {
    if ids.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + ids.len() * (ID_LEN + 6) + 2);
    out.push_str(text);
    out.push_str(separator_before(text));
    out.push_str(&marker_block(ids));
    out
}

fn separator_before(text: &str) -> &'static str {
    if text.is_empty() || text.ends_with("\n\n") {
        ""
    } else if text.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "01J2VVZBDQTP1ZQJ8DSN";
    const B: &str = "01J2VVZBDQTP1ZQJ8DSP";

    #[test]
    fn detects_whole_line_markers_only() {
        assert_eq!(parse_marker_line(&format!("[{A}]: #")), Some(A));
        assert_eq!(parse_marker_line(&format!("  [{A}]: #  \r\n")), Some(A));
        assert_eq!(parse_marker_line(&format!("see [{A}]: #")), None);
        assert_eq!(parse_marker_line(&format!("[{A}]: # x")), None);
        assert_eq!(parse_marker_line("[01J2VVZBDQTP1ZQJ8DS]: #"), None); // 19 chars
        assert_eq!(parse_marker_line("[01j2vvzbdqtp1zqj8dsn]: #"), None); // lower case
        assert_eq!(parse_marker_line("[01J2VVZBDQTP1ZQJ8DSN]:#"), None);
        assert_eq!(parse_marker_line("[ééééééééééééééééééé]: #"), None);
        assert_eq!(parse_marker_line(""), None);
    }

    #[test]
    fn split_keeps_true_order() {
        let text = format!("[{A}]: #\n\nHello\nworld\n\n[{B}]: #\nBye");
        assert_eq!(
            split(&text),
            vec![
                Segment::Marker(A),
                Segment::Text("\nHello\nworld\n\n"),
                Segment::Marker(B),
                Segment::Text("Bye"),
            ]
        );
        assert_eq!(marker_ids(&text), vec![A, B]);
        assert_eq!(split("plain"), vec![Segment::Text("plain")]);
        assert!(split("").is_empty());
        let inline = format!("x [{A}]: #");
        assert_eq!(split(&inline), vec![Segment::Text(&inline)]);
    }

    #[test]
    fn reference_layout_round_trips() {
        let text = append_markers("Answer.", &[A, B]);
        assert_eq!(text, format!("Answer.\n\n[{A}]: #\n[{B}]: #\n"));
        assert_eq!(
            append_markers("Answer.\n", &[A]),
            format!("Answer.\n\n[{A}]: #\n")
        );
        assert_eq!(append_markers("", &[A]), format!("[{A}]: #\n"));
        assert_eq!(append_markers("x", &[] as &[&str]), "x");
        assert_eq!(strip(&text), "Answer.");
        assert_eq!(marker_ids(&text), vec![A, B]);
    }

    #[test]
    fn strip_keeps_other_text_intact() {
        let text = "  indented\n\n\n# Title\n  \n";
        assert_eq!(strip(text), text);
        let mixed = format!("[{A}]: #\n\nFirst para.\n\n[{B}]: #\n\nSecond  para.\n\n[{A}]: #\n");
        assert_eq!(strip(&mixed), "First para.\n\nSecond  para.");
        let tight = format!("line one\n[{A}]: #\nline two");
        assert_eq!(strip(&tight), "line one\nline two");
        assert_eq!(strip(&format!("[{A}]: #\n")), "");
    }

    #[test]
    fn insertion_is_separated_by_blank_lines() {
        assert_eq!(marker_insertion("", &[A]), format!("[{A}]: #\n\n"));
        assert_eq!(marker_insertion("Hi", &[A]), format!("\n\n[{A}]: #\n\n"));
        assert_eq!(marker_insertion("Hi\n", &[A]), format!("\n[{A}]: #\n\n"));
        assert_eq!(marker_insertion("Hi", &[] as &[String]), "");
        let mut text = String::new();
        text += &marker_insertion(&text.clone(), &[A]);
        text += "\"Quoted\" answer";
        text += &marker_insertion(&text.clone(), &[B]);
        text += "done";
        assert_eq!(
            split(&text),
            vec![
                Segment::Marker(A),
                Segment::Text("\n\"Quoted\" answer\n\n"),
                Segment::Marker(B),
                Segment::Text("\ndone"),
            ]
        );
        assert_eq!(strip(&text), "\"Quoted\" answer\n\ndone");
    }

    #[test]
    fn marker_block_format() {
        assert_eq!(marker_block(&[A, B]), format!("[{A}]: #\n[{B}]: #\n"));
        assert_eq!(marker_block(&[] as &[&str]), "");
        assert_eq!(marker_line(A), format!("[{A}]: #"));
    }
}
