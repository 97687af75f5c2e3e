//! Model icons as `data:` URLs, so Open WebUI's model entries carry the picture itself
//! (as the reference pipe stores them): users' browsers then never fetch from OpenRouter's
//! site, and the icons still show where the browser cannot reach it (Open WebUI only
//! redirects to outside images when its forwarding is on). Open WebUI 0.12.4 accepts PNG,
//! JPEG, GIF and WebP data URLs only (an SVG could carry script), so SVG icons, most of
//! OpenRouter's, are drawn to a PNG first, as the reference does with cairosvg. Icons on
//! the gateway's own host are fetched like the catalog; any other host goes through the
//! guarded download (https only, no private addresses). An icon that cannot be fetched or
//! drawn keeps its link.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use futures_util::stream::{self, StreamExt};

use crate::fetch::{guarded_get, FetchLimits, UrlPolicy};

/// Largest icon kept (the reference's `_MAX_MODEL_PROFILE_IMAGE_BYTES`).
pub const MAX_ICON_BYTES: u64 = 2 * 1024 * 1024;
/// Icons fetched at once.
const PARALLEL: usize = 8;
/// One icon may take at most this; all of them together at most [`TOTAL_BUDGET`].
const PER_ICON: Duration = Duration::from_secs(5);
const TOTAL_BUDGET: Duration = Duration::from_secs(20);

/// The image type of an icon, from its `Content-Type`, else its file name; `None` for
/// something that is not an image.
pub fn icon_mime(content_type: Option<&str>, url: &str) -> Option<String> {
    let declared = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "application/octet-stream");
    if let Some(mime) = declared {
        return mime.starts_with("image/").then_some(mime);
    }
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let by_name = [
        (".svg", "image/svg+xml"),
        (".png", "image/png"),
        (".jpg", "image/jpeg"),
        (".jpeg", "image/jpeg"),
        (".webp", "image/webp"),
        (".gif", "image/gif"),
        (".ico", "image/x-icon"),
    ];
    by_name
        .iter()
        .find(|(ext, _)| path.ends_with(ext))
        .map(|(_, mime)| (*mime).to_owned())
}

/// The image types Open WebUI keeps as a model's picture (`PROFILE_IMAGE_ALLOWED_MIME_TYPES`).
const RASTER: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];
/// The longest side of a drawn SVG icon, in pixels.
const DRAWN_SIZE: f32 = 256.0;

/// An SVG drawn to a PNG whose longest side is [`DRAWN_SIZE`]; `None` when it cannot be
/// read or drawn.
pub fn svg_to_png(svg: &[u8]) -> Option<Vec<u8>> {
    use resvg::{tiny_skia, usvg};
    let tree = usvg::Tree::from_data(svg, &usvg::Options::default()).ok()?;
    let size = tree.size();
    let longest = size.width().max(size.height());
    if !(longest.is_finite() && longest > 0.0) {
        return None;
    }
    let scale = DRAWN_SIZE / longest;
    let width = (size.width() * scale).round().max(1.0) as u32;
    let height = (size.height() * scale).round().max(1.0) as u32;
    let mut pixmap = tiny_skia::Pixmap::new(width, height)?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().ok()
}

/// `bytes` of type `mime` as a `data:` URL.
pub fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Every icon link of `icons` replaced by its `data:` URL where it could be fetched.
/// `site` is the gateway's origin (`https://openrouter.ai`), fetched with `client`.
pub async fn inline(
    icons: HashMap<String, String>,
    site: &str,
    client: &reqwest::Client,
) -> HashMap<String, String> {
    let mut links: Vec<&String> = icons.values().collect();
    links.sort();
    links.dedup();
    let fetches = stream::iter(links.into_iter().cloned())
        .map(|link| async move {
            let got = tokio::time::timeout(PER_ICON, fetch(&link, site, client))
                .await
                .ok()
                .flatten();
            (link, got)
        })
        .buffer_unordered(PARALLEL)
        .filter_map(|(link, got)| async move { got.map(|data| (link, data)) })
        .collect::<HashMap<String, String>>();
    let inlined = tokio::time::timeout(TOTAL_BUDGET, fetches)
        .await
        .unwrap_or_default();
    icons
        .into_iter()
        .map(|(slug, link)| {
            let shown = inlined.get(&link).cloned().unwrap_or(link);
            (slug, shown)
        })
        .collect()
}

async fn fetch(link: &str, site: &str, client: &reqwest::Client) -> Option<String> {
    let (bytes, content_type) = if same_origin(link, site) {
        let response = client.get(link).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_ICON_BYTES)
        {
            return None;
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.ok()?;
        (bytes, content_type)
    } else {
        let limits = FetchLimits {
            max_bytes: MAX_ICON_BYTES,
            time_budget: PER_ICON,
            ..FetchLimits::default()
        };
        let fetched = guarded_get(link, &UrlPolicy::default(), &limits)
            .await
            .ok()?;
        (fetched.bytes, fetched.content_type)
    };
    if bytes.is_empty() || bytes.len() as u64 > MAX_ICON_BYTES {
        return None;
    }
    let mime = icon_mime(content_type.as_deref(), link)?;
    if mime == "image/svg+xml" {
        let png = tokio::task::spawn_blocking(move || svg_to_png(&bytes))
            .await
            .ok()??;
        return Some(data_url("image/png", &png));
    }
    RASTER
        .contains(&mime.as_str())
        .then(|| data_url(&mime, &bytes))
}

fn same_origin(link: &str, site: &str) -> bool {
    match (url::Url::parse(link), url::Url::parse(site)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_type_comes_from_the_header_else_the_name() {
        assert_eq!(
            icon_mime(Some("image/svg+xml; charset=utf-8"), "https://x/a").as_deref(),
            Some("image/svg+xml")
        );
        assert_eq!(
            icon_mime(Some("text/html"), "https://x/a.png"),
            None,
            "not an image"
        );
        assert_eq!(
            icon_mime(None, "https://x/icons/OpenAI.SVG?v=2").as_deref(),
            Some("image/svg+xml")
        );
        assert_eq!(
            icon_mime(Some("application/octet-stream"), "https://x/a.png").as_deref(),
            Some("image/png")
        );
        assert_eq!(icon_mime(None, "https://x/a"), None);
        assert_eq!(data_url("image/png", b"ab"), "data:image/png;base64,YWI=");
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 8"><rect width="16" height="8" fill="red"/></svg>"#;
        let png = svg_to_png(svg).expect("drawn");
        assert_eq!(&png[1..4], b"PNG");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((width, height), (256, 128), "the longest side is 256 px");
        assert_eq!(svg_to_png(b"<svg"), None);
        assert_eq!(svg_to_png(b"not an image"), None);
        assert!(same_origin(
            "https://openrouter.ai/images/a.svg",
            "https://openrouter.ai"
        ));
        assert!(!same_origin(
            "https://cdn.example/a.svg",
            "https://openrouter.ai"
        ));
    }
}
