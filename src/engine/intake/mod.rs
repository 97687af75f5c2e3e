//! The intake stage (issue #11): before history replay and translation, every user
//! message's content blocks become Responses input parts the provider can read.
//!
//! Exists because attachments need async work that `translate` must not do: Open WebUI
//! files are read through the host port in chunks and inlined as base64, remote links
//! are downloaded through `fetch::guarded_get` (SSRF-checked, retried), and copies are
//! kept in Open WebUI's storage. It also decides what the model may receive: images
//! only with the last user message, up to `MAX_INPUT_IMAGES_PER_REQUEST`, and only
//! inputs the model's catalog entry accepts. Whatever is dropped or refused is named in
//! a status line or notification; the chat always goes on.

mod download;
mod media;
mod storage;

pub(super) use storage::store_file;

use std::collections::HashSet;

use serde_json::{json, Value};

use super::host::Host;
use super::sink::Sink;
use crate::catalog::Model;
use crate::emit::{Emit, NoticeLevel};
use crate::intake::{markdown_images, StatusText};
use crate::valves::{FileSettings, ImageSelection};

/// What the model's catalog entry says it can take; everything when it is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepts {
    /// Images.
    pub images: bool,
    /// Files (`input_file`).
    pub files: bool,
    /// Audio.
    pub audio: bool,
    /// Video.
    pub video: bool,
}

impl Accepts {
    /// From the model's input modalities (`None`: the catalog could not say, so allow).
    pub fn of(model: Option<&Model>) -> Self {
        let Some(model) = model else {
            return Self {
                images: true,
                files: true,
                audio: true,
                video: true,
            };
        };
        let has = |m: &str| {
            model
                .architecture
                .input_modalities
                .iter()
                .any(|x| x.eq_ignore_ascii_case(m))
        };
        Self {
            images: has("image"),
            files: has("file"),
            audio: has("audio"),
            video: has("video"),
        }
    }
}

/// Full links to Open WebUI's own files (`https://chat.example.com/api/v1/files/<id>`)
/// in the messages' parts, rewritten to the path the rest of intake recognises, so such
/// a file is read from storage instead of being sent to the provider as a link it cannot
/// open (or fetched over the network). Text is never changed.
pub fn localize_file_links(messages: &mut [Value], origins: &[String]) {
    fn walk(v: &mut Value, origins: &[String]) {
        match v {
            Value::String(s) => {
                if let Some(path) = crate::intake::localize_file_link(s, origins) {
                    *s = path;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, origins)),
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    if key != "text" {
                        walk(value, origins);
                    }
                }
            }
            _ => {}
        }
    }
    if origins.is_empty() {
        return;
    }
    for message in messages {
        if let Some(parts @ (Value::Array(_) | Value::Object(_))) = message.get_mut("content") {
            walk(parts, origins);
        }
    }
}

/// Runs the stage: `messages` are Open WebUI's chat messages, `attached` its `__files__`
/// (the files of this request, sent with the last user message). Returns the messages
/// with user content rewritten; statuses go to `sink`, storage work to `host`. The
/// messages are taken by value: an attachment's text moves into its part, never copied.
pub async fn prepare<S: Sink, H: Host>(
    messages: Vec<Value>,
    attached: &[Value],
    settings: &FileSettings,
    accepts: Accepts,
    host: &H,
    sink: &mut S,
) -> Vec<Value> {
    let mut intake = Intake::new(settings, accepts, host, sink);
    let last_user = messages
        .len()
        .checked_sub(1)
        .filter(|&i| role(&messages[i]) == "user");
    let mut out: Vec<Value> = Vec::with_capacity(messages.len());
    for (index, mut message) in messages.into_iter().enumerate() {
        let is_user = role(&message) == "user";
        let blocks = match message.get_mut("content").map(Value::take) {
            Some(Value::Array(parts)) if is_user => parts,
            Some(object @ Value::Object(_)) if is_user => vec![object],
            content => {
                if let (Some(content), Some(m)) = (content, message.as_object_mut()) {
                    m.insert("content".into(), content);
                }
                out.push(message);
                continue;
            }
        };
        let is_last = Some(index) == last_user;
        let referenced = if is_last {
            referenced_ids(&blocks)
        } else {
            HashSet::new()
        };
        let mut parts = intake.user_blocks(blocks, is_last).await;
        if is_last {
            if !intake.saw_user_images
                && settings.image_selection == ImageSelection::UserThenAssistant
            {
                let earlier = intake.assistant_images(&out[..index]).await;
                parts.splice(0..0, earlier);
            }
            parts.extend(intake.attached_files(attached, &referenced).await);
        }
        message["content"] = Value::Array(parts);
        out.push(message);
    }
    if let Some(index) = last_user {
        // A string message (what Open WebUI's chat box sends) still gets the previous
        // reply's images and the attached files.
        if !out[index]["content"].is_array() {
            let mut parts = match settings.image_selection {
                ImageSelection::UserThenAssistant => intake.assistant_images(&out[..index]).await,
                ImageSelection::UserTurnOnly => Vec::new(),
            };
            let files = intake.attached_files(attached, &HashSet::new()).await;
            if !parts.is_empty() || !attached.is_empty() {
                let text = out[index]["content"].as_str().unwrap_or("").to_string();
                parts.push(json!({"type": "input_text", "text": text}));
                parts.extend(files);
                out[index]["content"] = Value::Array(parts);
            }
        }
    }
    intake.finish().await;
    out
}

fn role(message: &Value) -> &str {
    message
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
}

/// Open WebUI file ids the blocks already link to, so `__files__` does not add them twice.
fn referenced_ids(blocks: &[Value]) -> HashSet<String> {
    let mut ids = HashSet::new();
    for block in blocks {
        let fields = crate::intake::FileFields::of(block);
        let (image, _) = media::image_link(block);
        for link in [fields.file_url, fields.file_data, image] {
            if let Some(id) = crate::intake::internal_file_id(link) {
                ids.insert(id.to_string());
            }
        }
        if !fields.file_id.is_empty() {
            ids.insert(fields.file_id.to_string());
        }
    }
    ids
}

/// One request's intake: its settings, what the model takes, and what was said already.
pub(super) struct Intake<'a, S: Sink, H: Host> {
    pub(super) settings: &'a FileSettings,
    pub(super) accepts: Accepts,
    pub(super) host: &'a H,
    pub(super) sink: &'a mut S,
    /// Open WebUI's limits, asked once (`None`: not yet asked).
    pub(super) owui_limits: Option<(Option<u64>, bool)>,
    said: HashSet<String>,
    /// The last user message brought images of its own.
    saw_user_images: bool,
}

impl<'a, S: Sink, H: Host> Intake<'a, S, H> {
    fn new(settings: &'a FileSettings, accepts: Accepts, host: &'a H, sink: &'a mut S) -> Self {
        Self {
            settings,
            accepts,
            host,
            sink,
            owui_limits: None,
            said: HashSet::new(),
            saw_user_images: false,
        }
    }

    /// A status line (each text once per request).
    pub(super) async fn status(&mut self, text: impl Into<String>) {
        let text = text.into();
        if self.said.insert(text.clone()) {
            self.sink.send(Emit::status(text, false)).await;
        }
    }

    /// A toast (each text once per request).
    pub(super) async fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        let content = text.into();
        if self.said.insert(format!("notice:{content}")) {
            self.sink.send(Emit::Notification { level, content }).await;
        }
    }

    /// Every block of one user message, in order; images only for the last one.
    async fn user_blocks(&mut self, blocks: Vec<Value>, is_last: bool) -> Vec<Value> {
        let mut parts = Vec::with_capacity(blocks.len());
        let mut images_seen = 0usize;
        let mut dropped = 0usize;
        for mut block in blocks {
            let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
            match kind {
                "image_url" | "input_image" => {
                    if !is_last {
                        continue;
                    }
                    self.saw_user_images = true;
                    if !self.accepts.images {
                        self.status(StatusText::NO_VISION).await;
                        continue;
                    }
                    images_seen += 1;
                    if images_seen > self.settings.max_images {
                        dropped += 1;
                        continue;
                    }
                    let (url, detail) = media::take_image_link(&mut block);
                    if let Some(part) = self.image(url, &detail, true).await {
                        parts.push(part);
                    }
                }
                "file" | "input_file" => {
                    if let Some(part) = self.file_block(&mut block).await {
                        parts.push(part);
                    }
                }
                "input_audio" | "audio" => {
                    if let Some(part) = self.audio(&mut block).await {
                        parts.push(part);
                    }
                }
                "video_url" | "video" | "input_video" => {
                    if let Some(part) = self.video(&mut block).await {
                        parts.push(part);
                    }
                }
                _ => parts.push(block),
            }
        }
        if dropped > 0 {
            let line = StatusText::dropped_images(dropped, self.settings.max_images);
            self.status(line).await;
        }
        parts
    }

    /// Up to the image limit of the images the latest assistant reply showed.
    async fn assistant_images(&mut self, earlier: &[Value]) -> Vec<Value> {
        if !self.accepts.images {
            return Vec::new();
        }
        let Some(reply) = earlier.iter().rev().find(|m| role(m) == "assistant") else {
            return Vec::new();
        };
        let text = match reply.get("content") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        };
        let mut parts = Vec::new();
        for link in markdown_images(&text)
            .into_iter()
            .take(self.settings.max_images)
        {
            if let Some(part) = self.image(link, "auto", false).await {
                parts.push(part);
            }
        }
        parts
    }

    /// The request's attached Open WebUI files that are not images (Open WebUI already
    /// puts those into the message as `image_url` parts), as `input_file` parts.
    async fn attached_files(
        &mut self,
        attached: &[Value],
        referenced: &HashSet<String>,
    ) -> Vec<Value> {
        let mut parts = Vec::new();
        let mut seen = referenced.clone();
        for entry in attached {
            let kind = entry.get("type").and_then(Value::as_str).unwrap_or("file");
            let mime = entry
                .get("content_type")
                .or_else(|| entry.pointer("/file/meta/content_type"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if kind == "image" || mime.starts_with("image/") {
                continue;
            }
            let id = entry
                .get("id")
                .or_else(|| entry.pointer("/file/id"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if id.is_empty() || !seen.insert(id.to_string()) {
                continue;
            }
            let name = entry
                .get("name")
                .or_else(|| entry.pointer("/file/filename"))
                .and_then(Value::as_str)
                .unwrap_or(id);
            if let Some(part) = self.owui_file_part(id, name).await {
                parts.push(part);
            }
        }
        parts
    }

    async fn finish(&mut self) {
        let _ = self.sink.flush().await;
    }
}

#[cfg(test)]
mod tests;
