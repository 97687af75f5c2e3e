//! Images a model generated, shown in the answer (#11, #12).
//!
//! Exists because a generated image needs I/O the mapper must not do: inline data is
//! kept in Open WebUI's storage through the host port first, so the saved chat holds a
//! short `/api/v1/files/<id>/content` link instead of megabytes of base64 (and a
//! follow-up such as "make it bluer" can send that image back). When storage is not
//! available the image is shown from its `data:` URL; a link is shown as it is. Each
//! image is its own Markdown paragraph, `![Generated image N](url)`, as in the
//! reference pipe, on both routes (Responses items and Chat Completions' `images`).

use serde_json::Value;

use super::host::Host;
use super::intake::store_file;
use crate::emit::Emit;
use crate::ids::new_id;
use crate::intake::StatusText;
use crate::stream::images::{alt_text, images_in, markdown, GeneratedImage};
use crate::valves::FileSettings;

/// What the answer needs to know to place the next image.
#[derive(Debug, Default)]
pub(super) struct ShownImages {
    /// Images shown so far (their default alt text counts them).
    count: usize,
    /// The answer's last two bytes of text, for the blank line before an image.
    tail: [u8; 2],
    /// The last thing shown was an image: text after it starts a new paragraph.
    after_image: bool,
}

/// The item, when an emit is a finished generated-image item.
pub(super) fn generated_item(emit: &Emit) -> Option<&Value> {
    match emit {
        Emit::ItemDone { item, .. }
            if item.get("type").and_then(Value::as_str) == Some("image_generation_call") =>
        {
            Some(item)
        }
        _ => None,
    }
}

impl ShownImages {
    /// Notes answer text on its way out; text right after an image gets its own
    /// paragraph.
    pub(super) fn text(&mut self, text: &mut String) {
        if text.is_empty() {
            return;
        }
        if std::mem::take(&mut self.after_image) && !text.starts_with('\n') {
            text.insert_str(0, "\n\n");
        }
        let bytes = text.as_bytes();
        self.tail = match bytes {
            [.., a, b] => [*a, *b],
            [b] => [self.tail[1], *b],
            [] => self.tail,
        };
    }

    /// What separates the answer so far from a new paragraph.
    fn separator(&self) -> &'static str {
        match self.tail {
            [0, 0] => "",
            [b'\n', b'\n'] => "",
            [_, b'\n'] => "\n",
            _ => "\n\n",
        }
    }

    /// The emits that show one item's images: a status per image kept in storage, then
    /// the Markdown; a warning status when something in the item could not be read.
    pub(super) async fn show<H: Host>(
        &mut self,
        item: &Value,
        host: &H,
        files: &FileSettings,
    ) -> Vec<Emit> {
        let found = images_in(item, files.base64_max_bytes);
        let mut out = Vec::new();
        let mut blocks = String::new();
        for image in &found.images {
            let url = match image {
                GeneratedImage::Link(url) => url.clone(),
                GeneratedImage::Inline { mime, base64 } => {
                    let name = GeneratedImage::file_name(mime, &new_id().to_lowercase());
                    let stored = store_file(host, &files.storage_user, &name, mime, base64);
                    match stored.await {
                        Some(url) => {
                            out.push(Emit::status(StatusText::IMAGE_BASE64_SAVED, false));
                            url
                        }
                        None => image.as_url(),
                    }
                }
            };
            self.count += 1;
            if !blocks.is_empty() {
                blocks.push_str("\n\n");
            }
            blocks.push_str(&markdown(&alt_text(item, self.count), &url));
        }
        if found.unreadable {
            out.push(Emit::status(StatusText::GENERATED_IMAGE_UNREADABLE, false));
        }
        if !blocks.is_empty() {
            blocks.insert_str(0, self.separator());
            self.text(&mut blocks);
            self.after_image = true;
            out.push(Emit::Content(blocks));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::host::{HostCall, HostError, NoHost};
    use serde_json::json;
    use std::sync::Mutex;
    use std::time::Duration;

    const PIXEL: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

    /// Storage that keeps every file it is given, named in the order they came.
    #[derive(Default)]
    struct Storage(Mutex<Vec<Value>>);

    impl Host for Storage {
        async fn call(&self, call: HostCall, _: Duration) -> Result<Value, HostError> {
            let HostCall::FileStore(args) = call else {
                return Err(HostError::Unavailable("only storage".into()));
            };
            let mut kept = self.0.lock().unwrap();
            kept.push(args);
            Ok(json!({"id": kept.len(), "url": format!("/api/v1/files/f{}/content", kept.len())}))
        }
    }

    fn files() -> FileSettings {
        crate::valves::Settings::new(Default::default()).files
    }

    fn texts(out: &[Emit]) -> Vec<String> {
        out.iter()
            .map(|e| match e {
                Emit::Content(t) => format!("content:{t}"),
                Emit::Status { description, .. } => format!("status:{description}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn inline_images_are_stored_and_shown_by_their_link_in_their_own_paragraph() {
        let host = Storage::default();
        let mut shown = ShownImages::default();
        let mut text = "Here it is:".to_string();
        shown.text(&mut text);
        let item = json!({"type": "image_generation_call", "id": "ig_1", "result": PIXEL});
        let out = shown.show(&item, &host, &files()).await;
        assert_eq!(
            texts(&out),
            [
                "status:📥 Saved base64 image to storage",
                "content:\n\n![Generated image 1](/api/v1/files/f1/content)",
            ]
        );
        let kept = host.0.lock().unwrap();
        assert_eq!(kept[0]["mime"], "image/png");
        assert_eq!(kept[0]["base64"], PIXEL);
        let name = kept[0]["name"].as_str().unwrap();
        assert!(
            name.starts_with("generated-image-") && name.ends_with(".png"),
            "{name}"
        );
        drop(kept);
        let mut after = "And more.".to_string();
        shown.text(&mut after);
        assert_eq!(after, "\n\nAnd more.");
    }

    #[tokio::test]
    async fn without_storage_the_data_url_is_shown_and_images_keep_counting() {
        let mut shown = ShownImages::default();
        let two = json!({"result": [PIXEL, "https://cdn.example/b.png"]});
        let out = shown.show(&two, &NoHost, &files()).await;
        assert_eq!(
            texts(&out),
            [format!(
                "content:![Generated image 1](data:image/png;base64,{PIXEL})\n\n\
                 ![Generated image 2](https://cdn.example/b.png)"
            )]
        );
        let broken = json!({"result": ["@@", "https://cdn.example/c.png"]});
        let out = shown.show(&broken, &NoHost, &files()).await;
        assert_eq!(
            texts(&out),
            [
                "status:⚠️ Unable to process generated image output",
                "content:\n\n![Generated image 3](https://cdn.example/c.png)",
            ]
        );
    }
}
