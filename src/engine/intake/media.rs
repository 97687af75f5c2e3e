//! One block at a time: images, files, audio and video become the Responses parts
//! OpenRouter reads (`input_image`, `input_file`, `input_audio`, `input_video`), or are
//! left out with a status that says why.

use base64::Engine as _;
use serde_json::{json, Value};

use super::storage::StoredFile;
use super::Intake;
use crate::emit::NoticeLevel;
use crate::engine::host::Host;
use crate::engine::sink::Sink;
use crate::fetch::{resolve_checked, vet_url, FetchError, UrlPolicy};
use crate::intake::{
    audio_format, file_extension, internal_file_id, is_youtube, normalize_mime, parse_data_url,
    DataUrlError, FileFields, StatusText,
};

/// An image block's link and detail (`auto`, `low` or `high`; anything else is `auto`),
/// borrowed.
pub(super) fn image_link(block: &Value) -> (&str, &str) {
    let nested = block.get("image_url");
    let url = match nested {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => o.get("url").and_then(Value::as_str).unwrap_or(""),
        _ => "",
    };
    let detail = nested
        .and_then(|n| n.get("detail"))
        .or_else(|| block.get("detail"))
        .and_then(Value::as_str)
        .filter(|d| matches!(*d, "auto" | "low" | "high"))
        .unwrap_or("auto");
    (url.trim(), detail)
}

/// The same, with the link moved out of the block (an inline image is not copied).
pub(super) fn take_image_link(block: &mut Value) -> (String, String) {
    let detail = image_link(block).1.to_string();
    let slot = match block.get_mut("image_url") {
        Some(Value::Object(o)) => o.get_mut("url"),
        other => other,
    };
    let url = match slot.map(Value::take) {
        Some(Value::String(s)) => trimmed(s),
        _ => String::new(),
    };
    (url, detail)
}

/// `text` without surrounding whitespace, in place when there is none (the usual case).
pub(super) fn trimmed(text: String) -> String {
    if text.trim().len() == text.len() {
        text
    } else {
        text.trim().to_string()
    }
}

/// Moves string field `name` out of a file block (its nested `file` object first, as
/// `FileFields::of` reads it), trimmed.
fn take_file_field(block: &mut Value, name: &str) -> String {
    let nested_has = block
        .get("file")
        .and_then(|f| f.get(name))
        .is_some_and(Value::is_string);
    let slot = if nested_has {
        block.get_mut("file").and_then(|f| f.get_mut(name))
    } else {
        block.get_mut(name)
    };
    match slot.map(Value::take) {
        Some(Value::String(s)) => trimmed(s),
        _ => String::new(),
    }
}

/// `data:<mime>;base64,` put in front of `base64`, reusing its buffer.
fn into_data_url(mime: &str, mut base64: String) -> String {
    base64.insert_str(0, &format!("data:{mime};base64,"));
    base64
}

fn scheme_is(url: &str, scheme: &str) -> bool {
    url.get(..scheme.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
}

fn is_remote(url: &str) -> bool {
    scheme_is(url, "https://") || scheme_is(url, "http://")
}

fn fresh_name(prefix: &str, mime: &str) -> String {
    format!(
        "{prefix}-{}.{}",
        crate::ids::new_id().to_lowercase(),
        file_extension(mime)
    )
}

/// The name a downloaded file gets: the link's last path segment, else a fresh one.
fn name_from_link(link: &str, prefix: &str, mime: &str) -> String {
    let segment = url::Url::parse(link)
        .ok()
        .and_then(|u| u.path_segments()?.next_back().map(str::to_owned))
        .filter(|s| !s.is_empty());
    match segment {
        Some(name) if name.contains('.') => name,
        Some(name) => format!("{name}.{}", file_extension(mime)),
        None => fresh_name(prefix, mime),
    }
}

/// A MIME type guessed from a file name, for raw base64 without one.
fn mime_from_name(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or("");
    match ext {
        "pdf" => "application/pdf",
        "txt" | "md" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

impl<S: Sink, H: Host> Intake<'_, S, H> {
    /// One image as an `input_image` with base64 data, or `None` (with a status).
    /// `from_user` images may be kept in storage; assistant images already are.
    pub(super) async fn image(
        &mut self,
        link: String,
        detail: &str,
        from_user: bool,
    ) -> Option<Value> {
        let part = |url: String| json!({"type": "input_image", "image_url": url, "detail": detail});
        let url = link.as_str();
        if url.is_empty() {
            return None;
        }
        if scheme_is(url, "data:") {
            let parsed = match parse_data_url(url, self.settings.base64_max_bytes) {
                Ok(parsed) => parsed,
                Err(err) => {
                    self.status(StatusText::skipped("an image", &err.to_string()))
                        .await;
                    return None;
                }
            };
            if !parsed.mime.starts_with("image/") {
                self.status(StatusText::skipped("an image", "its data is not an image"))
                    .await;
                return None;
            }
            if from_user && self.settings.save_inline_data {
                let name = fresh_name("image", &parsed.mime);
                if self
                    .store(&name, &parsed.mime, parsed.base64)
                    .await
                    .is_some()
                {
                    self.status(StatusText::IMAGE_BASE64_SAVED).await;
                }
            }
            return Some(part(link));
        }
        if let Some(id) = internal_file_id(url) {
            let limit = self.settings.base64_max_bytes;
            return match self.read_owui(id, limit).await {
                Ok(file) if file.mime.starts_with("image/") => {
                    Some(part(into_data_url(&file.mime, file.base64)))
                }
                _ => {
                    self.status(StatusText::image_unavailable(id)).await;
                    None
                }
            };
        }
        if !is_remote(url) {
            self.status(StatusText::skipped(
                "an image",
                "its link is neither a web address nor inline data",
            ))
            .await;
            return None;
        }
        match self.download(url).await {
            Ok((mime, bytes)) if mime.starts_with("image/") => {
                let base64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
                drop(bytes);
                if self.settings.save_remote_urls {
                    let name = name_from_link(url, "image", &mime);
                    if self.store(&name, &mime, &base64).await.is_some() {
                        self.status(StatusText::IMAGE_REMOTE_SAVED).await;
                    }
                }
                Some(part(into_data_url(&mime, base64)))
            }
            Ok(_) => {
                self.status(StatusText::skipped("an image", "the link is not an image"))
                    .await;
                None
            }
            Err(FetchError::Refused(refusal)) => {
                self.status(StatusText::skipped("an image", &refusal.to_string()))
                    .await;
                None
            }
            Err(err) => {
                // The provider may still reach it; the user learns why we could not.
                self.status(format!(
                    "Could not download an image ({err}); sending its link instead."
                ))
                .await;
                Some(part(link))
            }
        }
    }

    /// An Open WebUI file as an `input_file` with its data inline.
    pub(super) async fn owui_file_part(&mut self, id: &str, name: &str) -> Option<Value> {
        if !self.accepts.files {
            self.status(StatusText::NO_FILES).await;
            return None;
        }
        match self.read_owui(id, self.settings.base64_max_bytes).await {
            Ok(file) => {
                let filename = if file.name.is_empty() {
                    name.to_string()
                } else {
                    file.name
                };
                Some(json!({
                    "type": "input_file",
                    "filename": filename,
                    "file_data": into_data_url(&file.mime, file.base64),
                }))
            }
            Err(why) => {
                self.status(StatusText::skipped(&format!("file {name}"), &why))
                    .await;
                None
            }
        }
    }

    /// A `file` / `input_file` block.
    pub(super) async fn file_block(&mut self, block: &mut Value) -> Option<Value> {
        if !self.accepts.files {
            self.status(StatusText::NO_FILES).await;
            return None;
        }
        let fields = FileFields::of(block);
        let label = fields.label();
        let mut out = serde_json::Map::new();
        out.insert("type".into(), json!("input_file"));
        if !fields.filename.is_empty() {
            out.insert("filename".into(), json!(fields.filename));
        }
        let link = fields.file_url;
        // Inline data given as `file_url` is still inline data.
        let (data, data_field) = if fields.file_data.is_empty() && scheme_is(link, "data:") {
            (link, "file_url")
        } else {
            (fields.file_data, "file_data")
        };
        if !data.is_empty() && scheme_is(data, "data:") {
            let parsed = match parse_data_url(data, self.settings.base64_max_bytes) {
                Ok(p) => p,
                Err(err) => {
                    self.status(StatusText::skipped(
                        &format!("file {label}"),
                        &err.to_string(),
                    ))
                    .await;
                    return None;
                }
            };
            if self.settings.save_inline_data {
                let name = if fields.filename.is_empty() {
                    fresh_name("file", &parsed.mime)
                } else {
                    fields.filename.to_string()
                };
                if self
                    .store(&name, &parsed.mime, parsed.base64)
                    .await
                    .is_some()
                {
                    self.status(StatusText::FILE_BASE64_SAVED).await;
                }
            }
            let data = take_file_field(block, data_field);
            out.insert("file_data".into(), Value::String(data));
            return Some(Value::Object(out));
        }
        if !data.is_empty() && !is_remote(data) && internal_file_id(data).is_none() {
            // Raw base64: guarded, then sent as the data URL OpenRouter expects.
            if let Err(err) = crate::intake::guard_base64(data, self.settings.base64_max_bytes) {
                self.status(StatusText::skipped(
                    &format!("file {label}"),
                    &err.to_string(),
                ))
                .await;
                return None;
            }
            let mime = mime_from_name(fields.filename);
            let data = take_file_field(block, data_field);
            out.insert("file_data".into(), Value::String(into_data_url(mime, data)));
            return Some(Value::Object(out));
        }
        let link = if !data.is_empty() { data } else { link };
        let owui_id = internal_file_id(link).map(str::to_owned).or_else(|| {
            (!fields.file_id.is_empty() && link.is_empty()).then(|| fields.file_id.to_string())
        });
        if let Some(id) = owui_id {
            let name = if fields.filename.is_empty() {
                id.clone()
            } else {
                fields.filename.to_string()
            };
            return match self.owui_file_part(&id, &name).await {
                Some(part) => Some(part),
                None => {
                    self.status(StatusText::file_unavailable(&label)).await;
                    None
                }
            };
        }
        if is_remote(link) {
            if !self.settings.save_remote_urls {
                out.insert("file_url".into(), json!(link));
                return Some(Value::Object(out));
            }
            return match self.download(link).await {
                Ok((mime, bytes)) => {
                    let base64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
                    drop(bytes);
                    let name = if fields.filename.is_empty() {
                        name_from_link(link, "file", &mime)
                    } else {
                        fields.filename.to_string()
                    };
                    if self.store(&name, &mime, &base64).await.is_some() {
                        self.status(StatusText::FILE_REMOTE_SAVED).await;
                    }
                    out.insert("filename".into(), json!(name));
                    out.insert("file_data".into(), json!(into_data_url(&mime, base64)));
                    Some(Value::Object(out))
                }
                Err(FetchError::Refused(refusal)) => {
                    self.status(StatusText::skipped(
                        &format!("file {label}"),
                        &refusal.to_string(),
                    ))
                    .await;
                    None
                }
                Err(_) => {
                    self.notify(NoticeLevel::Warning, StatusText::remote_kept(&label))
                        .await;
                    out.insert("file_url".into(), json!(link));
                    Some(Value::Object(out))
                }
            };
        }
        if !fields.file_id.is_empty() {
            out.insert("file_id".into(), json!(fields.file_id));
            return Some(Value::Object(out));
        }
        self.status(StatusText::skipped(
            &format!("file {label}"),
            "it has no data or link",
        ))
        .await;
        None
    }

    /// An audio block as `input_audio` (base64 wav or mp3 only: OpenRouter takes no links).
    pub(super) async fn audio(&mut self, block: &mut Value) -> Option<Value> {
        if !self.accepts.audio {
            self.status(StatusText::NO_AUDIO).await;
            return None;
        }
        let payload = block
            .get("input_audio")
            .or_else(|| block.get("data"))
            .or_else(|| block.get("blob"));
        let hint = ["mimeType", "mime_type"]
            .iter()
            .find_map(|k| payload.and_then(|p| p.get(*k)).and_then(Value::as_str))
            .or_else(|| {
                ["mimeType", "mime_type", "contentType", "content_type"]
                    .iter()
                    .find_map(|k| block.get(*k).and_then(Value::as_str))
            })
            .unwrap_or("");
        let hint = hint.to_string();
        let hint = hint.as_str();
        let explicit = payload
            .and_then(|p| p.get("format"))
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        let key = ["input_audio", "data", "blob"]
            .into_iter()
            .find(|k| block.get(*k).is_some())
            .unwrap_or("input_audio");
        let data = match block.get_mut(key) {
            Some(Value::Object(o)) => match o.get_mut("data").map(Value::take) {
                Some(Value::String(s)) => s,
                _ => String::new(),
            },
            Some(v @ Value::String(_)) => match v.take() {
                Value::String(s) => s,
                _ => String::new(),
            },
            _ => String::new(),
        };
        let data = trimmed(data);
        let data = data.as_str();
        let limit = self.settings.base64_max_bytes;
        let (base64, mime): (String, String) = if is_remote(data) {
            self.status(StatusText::skipped(
                "audio",
                "audio must be sent as base64 data, not a link",
            ))
            .await;
            return None;
        } else if scheme_is(data, "data:") {
            match parse_data_url(data, limit) {
                Ok(p) if p.mime.starts_with("audio/") => (p.base64.to_string(), p.mime),
                Ok(_) => {
                    self.status(StatusText::skipped("audio", "its data is not audio"))
                        .await;
                    return None;
                }
                Err(err) => {
                    self.status(StatusText::skipped("audio", &err.to_string()))
                        .await;
                    return None;
                }
            }
        } else {
            let compact: String = if data.bytes().any(|b| b.is_ascii_whitespace()) {
                data.chars().filter(|c| !c.is_whitespace()).collect()
            } else {
                data.to_string()
            };
            if let Err(err) = crate::intake::guard_base64(&compact, limit) {
                self.status(StatusText::skipped("audio", &err.to_string()))
                    .await;
                return None;
            }
            (compact, normalize_mime(hint))
        };
        let format = match explicit.as_deref() {
            Some(f @ ("mp3" | "wav")) => f.to_string(),
            _ => audio_format(if mime.is_empty() { hint } else { &mime }).to_string(),
        };
        Some(json!({"type": "input_audio", "input_audio": {"data": base64, "format": format}}))
    }

    /// A video block as `input_video`: inline data within `VIDEO_MAX_SIZE_MB`, YouTube
    /// links, and other links that pass the SSRF checks (never downloaded).
    pub(super) async fn video(&mut self, block: &mut Value) -> Option<Value> {
        if !self.accepts.video {
            self.status(StatusText::NO_VIDEO).await;
            return None;
        }
        let slot = match block.get("video_url") {
            Some(Value::String(_)) => block.get_mut("video_url"),
            Some(Value::Object(_)) => block.get_mut("video_url").and_then(|v| v.get_mut("url")),
            _ => block.get_mut("url"),
        };
        let url = match slot.map(Value::take) {
            Some(Value::String(s)) => trimmed(s),
            _ => String::new(),
        };
        let part = |url: String| json!({"type": "input_video", "video_url": url});
        if url.is_empty() {
            return None;
        }
        if scheme_is(&url, "data:") {
            let limit = self.settings.video_max_bytes;
            return match parse_data_url(&url, limit) {
                Ok(_) => {
                    self.status(StatusText::VIDEO_BASE64).await;
                    Some(part(url))
                }
                Err(DataUrlError::TooLarge { estimated, .. }) => {
                    let text = StatusText::video_too_large(estimated, limit / (1024 * 1024));
                    self.notify(NoticeLevel::Error, text.clone()).await;
                    self.status(text).await;
                    None
                }
                Err(err) => {
                    self.status(StatusText::skipped("a video", &err.to_string()))
                        .await;
                    None
                }
            };
        }
        if is_youtube(&url) {
            self.status(StatusText::VIDEO_YOUTUBE).await;
            let full = if is_remote(&url) {
                url
            } else {
                format!("https://{url}")
            };
            return Some(part(full));
        }
        if let Some(id) = internal_file_id(&url) {
            let id = id.to_string();
            return match self.read_owui(&id, self.settings.video_max_bytes).await {
                Ok(StoredFile { mime, base64, .. }) => {
                    self.status(StatusText::VIDEO_REMOTE).await;
                    Some(part(into_data_url(&mime, base64)))
                }
                Err(why) => {
                    self.status(StatusText::skipped(&format!("video {id}"), &why))
                        .await;
                    None
                }
            };
        }
        // A video link is never downloaded here, only passed on: the https rule (which
        // protects what the pipe fetches) does not apply, the address checks do.
        let policy = UrlPolicy {
            allow_insecure_http: true,
            ..self.settings.url_policy.clone()
        };
        let checked = match vet_url(&url, &policy) {
            Ok(vetted) => resolve_checked(&vetted, &policy).await.map(|_| ()),
            Err(refusal) => Err(refusal),
        };
        match checked {
            Ok(()) => {
                self.status(StatusText::VIDEO_REMOTE).await;
                Some(part(url))
            }
            Err(refusal) => {
                if refusal.is_private_address() {
                    self.notify(NoticeLevel::Error, StatusText::VIDEO_BLOCKED)
                        .await;
                }
                self.status(StatusText::skipped("a video", &refusal.to_string()))
                    .await;
                None
            }
        }
    }
}
