//! How the pipe takes in files, images, audio and video (issue #11): size limits,
//! downloads and their retries, the SSRF policy, storage in Open WebUI, and which images
//! go with a message. Read once per request by the intake stage (`engine::intake`).

use std::time::Duration;

use super::raw::Raw;
use crate::fetch::UrlPolicy;

const MIB: u64 = 1024 * 1024;

/// Which images go with the latest user message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSelection {
    /// Only the images the user attached.
    UserTurnOnly,
    /// The user's images or, when there are none, the previous assistant reply's images.
    UserThenAssistant,
}

/// The service account that owns stored files when a request has no user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageUser {
    /// Its email (the account is looked up, or created, by it).
    pub email: String,
    /// Its display name.
    pub name: String,
    /// Its Open WebUI role.
    pub role: String,
}

/// Files, images, audio and video in chats.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSettings {
    /// Retries after a failed download (0: one attempt).
    pub download_retries: u32,
    /// The first wait between download attempts; each further wait doubles.
    pub download_initial_delay: Duration,
    /// The longest single wait, and the longest the retries may take altogether.
    pub download_max_retry_time: Duration,
    /// Largest remote file, before Open WebUI's own limit is applied (MB).
    pub remote_max_mb: u64,
    /// Download file links and keep a copy in Open WebUI's storage.
    pub save_remote_urls: bool,
    /// Keep a copy of inline (base64) files and images in Open WebUI's storage.
    pub save_inline_data: bool,
    /// Largest inline or embedded file, decoded, in bytes.
    pub base64_max_bytes: u64,
    /// How much of an Open WebUI file is read per host call, in bytes.
    pub chunk_bytes: u64,
    /// Largest inline video, decoded, in bytes.
    pub video_max_bytes: u64,
    /// Most images sent with the latest user message.
    pub max_images: usize,
    /// Which images go with it.
    pub image_selection: ImageSelection,
    /// Who may be downloaded from (SSRF protection, plain-http allowlist).
    pub url_policy: UrlPolicy,
    /// Owner of stored files when a request has no user.
    pub storage_user: StorageUser,
}

impl FileSettings {
    pub(super) fn read(raw: &Raw) -> Self {
        let hosts = raw.str("ALLOW_INSECURE_HTTP_HOSTS");
        Self {
            download_retries: raw.int("REMOTE_DOWNLOAD_MAX_RETRIES").max(0) as u32,
            download_initial_delay: secs(raw.int("REMOTE_DOWNLOAD_INITIAL_RETRY_DELAY_SECONDS")),
            download_max_retry_time: secs(raw.int("REMOTE_DOWNLOAD_MAX_RETRY_TIME_SECONDS")),
            remote_max_mb: raw.int("REMOTE_FILE_MAX_SIZE_MB").max(1) as u64,
            save_remote_urls: raw.bool("SAVE_REMOTE_FILE_URLS"),
            save_inline_data: raw.bool("SAVE_FILE_DATA_CONTENT"),
            base64_max_bytes: raw.int("BASE64_MAX_SIZE_MB").max(1) as u64 * MIB,
            chunk_bytes: raw.int("IMAGE_UPLOAD_CHUNK_BYTES").max(1) as u64,
            video_max_bytes: raw.int("VIDEO_MAX_SIZE_MB").max(1) as u64 * MIB,
            max_images: raw.int("MAX_INPUT_IMAGES_PER_REQUEST").max(1) as usize,
            image_selection: match raw.choice("IMAGE_INPUT_SELECTION").as_str() {
                "user_turn_only" => ImageSelection::UserTurnOnly,
                _ => ImageSelection::UserThenAssistant,
            },
            url_policy: UrlPolicy {
                allow_insecure_http: raw.bool("ALLOW_INSECURE_HTTP"),
                insecure_http_hosts: hosts
                    .split(',')
                    .map(|h| h.trim().to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .collect(),
                protection: raw.bool("ENABLE_SSRF_PROTECTION"),
            },
            storage_user: StorageUser {
                email: raw.str("FALLBACK_STORAGE_EMAIL").trim().to_string(),
                name: raw.str("FALLBACK_STORAGE_NAME").trim().to_string(),
                role: raw.str("FALLBACK_STORAGE_ROLE").trim().to_ascii_lowercase(),
            },
        }
    }

    /// The effective remote-file limit in MB, given Open WebUI's own (§5.8): with
    /// retrieval on and a limit set, a valve above it is lowered to it, and the default
    /// valve (50) follows a larger Open WebUI limit; otherwise the valve stands.
    pub fn remote_limit_mb(&self, owui_limit_mb: Option<u64>, retrieval_on: bool) -> u64 {
        const VALVE_DEFAULT: u64 = 50;
        match owui_limit_mb.filter(|mb| *mb > 0).map(|mb| mb.min(500)) {
            Some(owui) if retrieval_on => {
                if self.remote_max_mb > owui
                    || (self.remote_max_mb == VALVE_DEFAULT && owui > VALVE_DEFAULT)
                {
                    owui
                } else {
                    self.remote_max_mb
                }
            }
            _ => self.remote_max_mb,
        }
    }
}

fn secs(value: i64) -> Duration {
    Duration::from_secs(value.max(0) as u64)
}
