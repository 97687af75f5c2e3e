//! The words a user reads when intake saves, drops or refuses something. The 📥/🎥
//! lines and the image limits keep the reference pipe's wording (§5.11, §5.2).

/// A status or notification text.
pub struct StatusText;

impl StatusText {
    /// An inline image was kept in Open WebUI's storage.
    pub const IMAGE_BASE64_SAVED: &'static str = "📥 Saved base64 image to storage";
    /// Something in a generated-image item could not be read (too large, not base64).
    pub const GENERATED_IMAGE_UNREADABLE: &'static str =
        "⚠️ Unable to process generated image output";
    /// A model is generating an image (Responses' `image_generation_call` events).
    pub const GENERATING_IMAGE: &'static str = "Generating an image…";
    /// A remote image was downloaded and kept in storage.
    pub const IMAGE_REMOTE_SAVED: &'static str = "📥 Downloaded and saved image from remote URL";
    /// An inline file was kept in storage.
    pub const FILE_BASE64_SAVED: &'static str = "📥 Saved base64 file to storage";
    /// A remote file was downloaded and kept in storage.
    pub const FILE_REMOTE_SAVED: &'static str = "📥 Downloaded and saved file from remote URL";
    /// An inline video goes to the model.
    pub const VIDEO_BASE64: &'static str = "🎥 Processing base64 video input";
    /// A YouTube link goes to the model.
    pub const VIDEO_YOUTUBE: &'static str = "🎥 Processing YouTube video input";
    /// Another video link goes to the model.
    pub const VIDEO_REMOTE: &'static str = "🎥 Processing video input";
    /// The model cannot see images.
    pub const NO_VISION: &'static str =
        "Model does not accept image inputs; skipping user attachments.";
    /// The model cannot read files.
    pub const NO_FILES: &'static str =
        "Model does not accept file inputs; skipping attached files.";
    /// The model cannot hear audio.
    pub const NO_AUDIO: &'static str = "Model does not accept audio inputs; skipping audio.";
    /// The model cannot watch video.
    pub const NO_VIDEO: &'static str = "Model does not accept video inputs; skipping video.";
    /// A video link that points into a private network.
    pub const VIDEO_BLOCKED: &'static str =
        "Video URL blocked by security policy (private network)";

    /// Images over `MAX_INPUT_IMAGES_PER_REQUEST`.
    pub fn dropped_images(dropped: usize, limit: usize) -> String {
        let noun = if dropped == 1 { "image" } else { "images" };
        format!("Dropped {dropped} extra {noun}; limit is {limit}.")
    }

    /// An Open WebUI image that could not be read.
    pub fn image_unavailable(file_id: &str) -> String {
        format!("Skipping image {file_id}: Open WebUI file unavailable.")
    }

    /// An Open WebUI file that could not be read.
    pub fn file_unavailable(label: &str) -> String {
        format!("Skipping file {label}: Open WebUI file unavailable.")
    }

    /// Something refused, with what it was and why.
    pub fn skipped(what: &str, why: &str) -> String {
        format!("Skipping {what}: {why}.")
    }

    /// A remote file that could not be downloaded and is passed on as its link.
    pub fn remote_kept(label: &str) -> String {
        format!("Unable to download/re-host file '{label}'. Using the remote URL as-is.")
    }

    /// An inline video over `VIDEO_MAX_SIZE_MB`.
    pub fn video_too_large(estimated_bytes: u64, limit_mb: u64) -> String {
        let mb = estimated_bytes as f64 / (1024.0 * 1024.0);
        format!("Video too large (~{mb:.1}MB, max: {limit_mb}MB)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_naturally() {
        assert_eq!(
            StatusText::dropped_images(1, 5),
            "Dropped 1 extra image; limit is 5."
        );
        assert_eq!(
            StatusText::dropped_images(3, 2),
            "Dropped 3 extra images; limit is 2."
        );
        assert_eq!(
            StatusText::video_too_large(150 * 1024 * 1024, 100),
            "Video too large (~150.0MB, max: 100MB)"
        );
    }
}
