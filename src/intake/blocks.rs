//! Reading the content blocks Open WebUI and API callers send: which link is an Open
//! WebUI file, which audio format a MIME type means, where a file block keeps its
//! fields, which images an assistant reply showed.

use serde_json::Value;

/// The file extension a MIME type's files get: its subtype without a `+suffix`
/// (`image/svg+xml` → `svg`), `bin` when there is none.
pub fn file_extension(mime: &str) -> &str {
    mime.split('/')
        .nth(1)
        .unwrap_or("bin")
        .split('+')
        .next()
        .unwrap_or("bin")
}

/// Lower-cased and trimmed, parameters dropped, `image/jpg` spelled `image/jpeg`.
pub fn normalize_mime(mime: &str) -> String {
    let mime = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "image/jpg" {
        "image/jpeg".to_string()
    } else {
        mime
    }
}

/// The file id of an Open WebUI file link: a path (not a full URL, so a third-party
/// `https://cdn…/files/x.png` is never mistaken for one) of the form
/// `/api/v1/files/<id>` or `/api/v1/files/<id>/content`, query and fragment ignored.
pub fn internal_file_id(url: &str) -> Option<&str> {
    let path = url.trim().split(['?', '#']).next().unwrap_or("");
    let rest = path.strip_prefix("/api/v1/files/")?;
    let id = match rest.split_once('/') {
        Some((id, "content")) | Some((id, "")) => id,
        Some(_) => return None,
        None => rest,
    };
    let plain = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plain.then_some(id)
}

/// `url` as an Open WebUI path when it is a full link to one of Open WebUI's own
/// files: same scheme, host and port as one of `origins` (the server's own addresses),
/// and a path [`internal_file_id`] accepts. A file link on any other host is not one.
pub fn localize_file_link(url: &str, origins: &[String]) -> Option<String> {
    let trimmed = url.trim();
    if origins.is_empty() || !trimmed.contains("/api/v1/files/") {
        return None;
    }
    let parsed = url::Url::parse(trimmed).ok()?;
    let same_origin = origins
        .iter()
        .any(|o| url::Url::parse(o.trim()).is_ok_and(|o| o.origin() == parsed.origin()));
    if !same_origin {
        return None;
    }
    let mut path = parsed.path().to_owned();
    if let Some(q) = parsed.query() {
        path.push('?');
        path.push_str(q);
    }
    internal_file_id(&path).is_some().then_some(path)
}

/// A YouTube watch or short link (`youtube.com/watch?v=…`, `youtu.be/…`), with or
/// without scheme and `www.`, case-insensitive.
pub fn is_youtube(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let id_after = |prefix: &str| {
        rest.strip_prefix(prefix)
            .and_then(|id| id.chars().next())
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    id_after("youtube.com/watch?v=") || id_after("youtu.be/")
}

/// OpenRouter's audio format for a MIME type: `wav` for the wave types, else `mp3`.
pub fn audio_format(mime: &str) -> &'static str {
    match normalize_mime(mime).as_str() {
        "audio/wav" | "audio/wave" | "audio/x-wav" | "audio/vnd.wave" => "wav",
        _ => "mp3",
    }
}

/// The image links of Markdown `![alt](url)` in an assistant reply, in order (an
/// optional `"title"` after the link is ignored).
pub fn markdown_images(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("![") {
        rest = &rest[start + 2..];
        let Some(close) = rest.find("](") else { break };
        if rest[..close].contains('\n') {
            continue;
        }
        let after = &rest[close + 2..];
        let Some(end) = after.find(')') else { break };
        let link = after[..end].split_whitespace().next().unwrap_or("");
        if !link.is_empty() {
            found.push(link.trim_matches(['<', '>']).to_string());
        }
        rest = &after[end..];
    }
    found
}

/// The fields of a `file` / `input_file` block, from its nested `file` object (Chat
/// Completions) or the block itself (Responses).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileFields<'a> {
    /// `file_id`.
    pub file_id: &'a str,
    /// `file_data`: a data URL, raw base64 or a link (borrowed: it may be large).
    pub file_data: &'a str,
    /// `filename`.
    pub filename: &'a str,
    /// `file_url`.
    pub file_url: &'a str,
}

impl<'a> FileFields<'a> {
    /// Reads a block; missing or non-string fields are empty.
    pub fn of(block: &'a Value) -> Self {
        let source = match block.get("file") {
            Some(Value::Object(_)) => block.get("file").unwrap_or(block),
            _ => block,
        };
        let field = |name: &str| {
            source
                .get(name)
                .or_else(|| block.get(name))
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim()
        };
        Self {
            file_id: field("file_id"),
            file_data: field("file_data"),
            filename: field("filename"),
            file_url: field("file_url"),
        }
    }

    /// How to name the file to a user: its name, else the link's host, else "file".
    pub fn label(&self) -> String {
        if !self.filename.is_empty() {
            return self.filename.to_string();
        }
        let link = if self.file_url.is_empty() {
            self.file_data
        } else {
            self.file_url
        };
        url::Url::parse(link)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "file".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_link_to_open_webuis_own_file_becomes_its_path() {
        let origins = vec![
            "http://127.0.0.1:8080/".to_owned(),
            "https://chat.example.com".to_owned(),
        ];
        let local = |u: &str| localize_file_link(u, &origins);
        assert_eq!(
            local("http://127.0.0.1:8080/api/v1/files/abc-1/content").as_deref(),
            Some("/api/v1/files/abc-1/content")
        );
        assert_eq!(
            local("https://CHAT.example.com/api/v1/files/x9?download=1").as_deref(),
            Some("/api/v1/files/x9?download=1")
        );
        assert_eq!(
            local("http://127.0.0.1:9999/api/v1/files/abc/content"),
            None,
            "other port"
        );
        assert_eq!(
            local("http://chat.example.com/api/v1/files/abc/content"),
            None,
            "other scheme"
        );
        assert_eq!(
            local("https://cdn.example.net/api/v1/files/abc/content"),
            None,
            "other host"
        );
        assert_eq!(
            local("https://chat.example.com/api/v1/files/abc/raw"),
            None,
            "not a file link"
        );
        assert_eq!(
            localize_file_link("http://127.0.0.1:8080/api/v1/files/a", &[]),
            None
        );
    }

    #[test]
    fn only_open_webui_paths_are_internal_files() {
        assert_eq!(
            internal_file_id("/api/v1/files/abc-123/content"),
            Some("abc-123")
        );
        assert_eq!(
            internal_file_id("/api/v1/files/abc/content?x=1"),
            Some("abc")
        );
        assert_eq!(internal_file_id("/api/v1/files/abc"), Some("abc"));
        assert_eq!(
            internal_file_id("https://cdn.example.com/files/x.png"),
            None
        );
        assert_eq!(
            internal_file_id("https://cdn.example.com/api/v1/files/x/content"),
            None
        );
        assert_eq!(internal_file_id("/api/v1/files/../etc/content"), None);
        assert_eq!(internal_file_id("/api/v1/files//content"), None);
    }

    #[test]
    fn youtube_links() {
        assert!(is_youtube("https://www.youtube.com/watch?v=dQw4w9WgXcQ"));
        assert!(is_youtube("YOUTU.BE/dQw4w9WgXcQ"));
        assert!(!is_youtube("https://youtube.com.evil.example/watch?v=x"));
        assert!(!is_youtube("https://example.com/watch?v=x"));
    }

    #[test]
    fn audio_formats() {
        assert_eq!(audio_format("audio/x-wav"), "wav");
        assert_eq!(audio_format("Audio/WAV; codecs=1"), "wav");
        assert_eq!(audio_format("audio/mpeg"), "mp3");
        assert_eq!(audio_format(""), "mp3");
    }

    #[test]
    fn markdown_images_in_order() {
        let text =
            "Here: ![a](https://x/a.png) and ![b](/api/v1/files/f1/content \"t\")\n![broken](";
        assert_eq!(
            markdown_images(text),
            vec![
                "https://x/a.png".to_string(),
                "/api/v1/files/f1/content".to_string()
            ]
        );
    }

    #[test]
    fn file_fields_from_either_shape() {
        let chat = json!({"type": "file", "file": {"filename": "a.pdf", "file_data": "data:x"}});
        let responses = json!({"type": "input_file", "file_url": "https://h.example/a.pdf"});
        assert_eq!(FileFields::of(&chat).filename, "a.pdf");
        assert_eq!(FileFields::of(&responses).label(), "h.example");
    }
}
