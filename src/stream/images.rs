//! Images a model generated (`image_generation_call` items; Chat Completions' `images`)
//! read out of the item, without I/O: what each image is (a link to show as is, or
//! inline base64 the engine keeps in Open WebUI's storage first) and the Markdown line
//! that shows it.
//!
//! Providers disagree on the shape: `result` is a base64 string, a `data:` URL, a link,
//! a list of those, or objects with the link or the data under one of several names
//! (the reference pipe's list, §8: `url`/`image_url`/`imageUrl`/`content_url`, then
//! `b64_json`/`b64`/`base64`/`data`/`image_base64` with `mime_type`/`mimeType`).

use serde_json::Value;

use crate::intake::{file_extension, guard_base64, normalize_mime, parse_data_url};

/// One generated image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeneratedImage {
    /// An `http(s)://` link or an Open WebUI path (`/api/v1/files/…`): shown as it is.
    Link(String),
    /// Base64 data (checked, not decoded) and its image MIME type.
    Inline {
        /// `image/png` when the provider named none.
        mime: String,
        /// The payload as the provider sent it.
        base64: String,
    },
}

impl GeneratedImage {
    /// The image as a `data:` URL or its link: what is shown when it cannot be stored.
    pub fn as_url(&self) -> String {
        match self {
            GeneratedImage::Link(url) => url.clone(),
            GeneratedImage::Inline { mime, base64 } => format!("data:{mime};base64,{base64}"),
        }
    }

    /// The file name it is stored under: `generated-image-<id>.<ext>`.
    pub fn file_name(mime: &str, id: &str) -> String {
        format!(
            "generated-image-{id}.{}",
            file_extension(&normalize_mime(mime))
        )
    }
}

/// What an item held: its images, and whether something in it could not be read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ItemImages {
    /// Readable images, in order.
    pub images: Vec<GeneratedImage>,
    /// An entry was too large, not base64 or of an unknown shape.
    pub unreadable: bool,
}

/// The images of one generated-image item; inline data over `limit` decoded bytes is
/// refused before anything is copied.
pub fn images_in(item: &Value, limit: u64) -> ItemImages {
    let mut found = ItemImages::default();
    if let Some(result) = item.get("result") {
        collect(result, limit, 0, &mut found);
    }
    found
}

/// The alt text of the `n`th image of the answer (1-based): the item's `label`, one line,
/// else "Generated image N".
pub fn alt_text(item: &Value, n: usize) -> String {
    let label = item
        .get("label")
        .and_then(Value::as_str)
        .map(|l| l.replace(['\r', '\n'], " ").replace(['[', ']'], ""))
        .filter(|l| !l.trim().is_empty());
    label.unwrap_or_else(|| format!("Generated image {n}"))
}

/// The Markdown that shows an image.
pub fn markdown(alt: &str, url: &str) -> String {
    format!("![{alt}]({url})")
}

const LINK_KEYS: [&str; 4] = ["url", "image_url", "imageUrl", "content_url"];
const DATA_KEYS: [&str; 5] = ["b64_json", "b64", "base64", "data", "image_base64"];
/// Nesting a provider could plausibly use; deeper is treated as unreadable.
const MAX_DEPTH: usize = 4;

fn collect(value: &Value, limit: u64, depth: usize, found: &mut ItemImages) {
    if depth > MAX_DEPTH {
        found.unreadable = true;
        return;
    }
    match value {
        Value::Null => {}
        Value::String(text) => match from_text(text, "image/png", limit) {
            Some(image) => found.images.push(image),
            None => found.unreadable = !text.trim().is_empty() || found.unreadable,
        },
        Value::Array(entries) => {
            for entry in entries {
                collect(entry, limit, depth + 1, found);
            }
        }
        Value::Object(map) => {
            let link = LINK_KEYS.iter().find_map(|k| match map.get(*k) {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
                Some(Value::Object(nested)) => nested.get("url").and_then(Value::as_str),
                _ => None,
            });
            let mime = ["mime_type", "mimeType", "media_type"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str))
                .map(normalize_mime)
                .filter(|m| m.starts_with("image/"))
                .unwrap_or_else(|| "image/png".to_owned());
            let data = DATA_KEYS
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str));
            if let Some(text) = link.or(data) {
                match from_text(text, &mime, limit) {
                    Some(image) => found.images.push(image),
                    None => found.unreadable = true,
                }
            } else if let Some(nested) = map.get("result") {
                collect(nested, limit, depth + 1, found);
            } else {
                found.unreadable = true;
            }
        }
        _ => found.unreadable = true,
    }
}

/// A string entry: a `data:` URL, a link, or raw base64 of type `mime`.
fn from_text(text: &str, mime: &str, limit: u64) -> Option<GeneratedImage> {
    let text = text.trim();
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    if lower.starts_with("data:") {
        let parsed = parse_data_url(text, limit).ok()?;
        let mime = if parsed.mime.starts_with("image/") {
            parsed.mime
        } else {
            mime.to_owned()
        };
        return Some(GeneratedImage::Inline {
            mime,
            base64: parsed.base64.to_owned(),
        });
    }
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Some(GeneratedImage::Link(text.to_owned()));
    }
    if text.starts_with('/') && !text.starts_with("//") {
        return Some(GeneratedImage::Link(text.to_owned()));
    }
    guard_base64(text, limit).ok()?;
    Some(GeneratedImage::Inline {
        mime: mime.to_owned(),
        base64: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PIXEL: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    const MB: u64 = 1 << 20;

    fn inline(mime: &str) -> GeneratedImage {
        GeneratedImage::Inline {
            mime: mime.into(),
            base64: PIXEL.into(),
        }
    }

    #[test]
    fn raw_base64_results_are_png_images() {
        let item = json!({"type": "image_generation_call", "result": PIXEL});
        assert_eq!(images_in(&item, MB).images, vec![inline("image/png")]);
    }

    #[test]
    fn data_urls_links_and_lists_are_all_read() {
        let item = json!({"result": [
            format!("data:image/jpg;base64,{PIXEL}"),
            "https://cdn.example/a.png",
            "/api/v1/files/abc/content",
        ]});
        let found = images_in(&item, MB);
        assert!(!found.unreadable);
        assert_eq!(
            found.images,
            vec![
                inline("image/jpeg"),
                GeneratedImage::Link("https://cdn.example/a.png".into()),
                GeneratedImage::Link("/api/v1/files/abc/content".into()),
            ]
        );
    }

    #[test]
    fn objects_name_their_link_or_data_in_many_ways() {
        let item = json!({"result": [
            {"type": "image_url", "image_url": {"url": format!("data:image/webp;base64,{PIXEL}")}},
            {"imageUrl": "https://x.example/i.png"},
            {"b64_json": PIXEL, "mime_type": "image/jpeg"},
            {"result": {"image_base64": PIXEL}},
        ]});
        assert_eq!(
            images_in(&item, MB).images,
            vec![
                inline("image/webp"),
                GeneratedImage::Link("https://x.example/i.png".into()),
                inline("image/jpeg"),
                inline("image/png"),
            ]
        );
    }

    #[test]
    fn oversized_broken_or_unknown_entries_are_unreadable_and_never_shown() {
        let big = "A".repeat(2 * MB as usize);
        for result in [
            json!(big),
            json!("@@not base64@@"),
            json!({"what": 1}),
            json!(7),
        ] {
            let found = images_in(&json!({ "result": result }), MB);
            assert!(found.images.is_empty(), "{result}");
            assert!(found.unreadable, "{result}");
        }
        assert_eq!(
            images_in(&json!({"status": "generating"}), MB),
            ItemImages::default()
        );
        let protocol_relative = images_in(&json!({"result": "//evil.example/x.png"}), MB);
        assert!(protocol_relative.images.is_empty());
    }

    #[test]
    fn alt_text_is_the_label_on_one_line_or_a_numbered_default() {
        assert_eq!(alt_text(&json!({}), 2), "Generated image 2");
        assert_eq!(
            alt_text(&json!({"label": "A cat\non a [mat]"}), 1),
            "A cat on a mat"
        );
        assert_eq!(alt_text(&json!({"label": "  "}), 3), "Generated image 3");
        assert_eq!(markdown("x", "/a"), "![x](/a)");
    }

    #[test]
    fn stored_names_use_the_usual_extensions() {
        assert_eq!(
            GeneratedImage::file_name("image/jpg", "ab"),
            "generated-image-ab.jpeg"
        );
        assert_eq!(
            GeneratedImage::file_name("image/png", "ab"),
            "generated-image-ab.png"
        );
        assert_eq!(
            inline("image/png").as_url(),
            format!("data:image/png;base64,{PIXEL}")
        );
    }
}
