//! How an answer is streamed to Open WebUI: chunk merging, where thinking shows, and
//! the closing usage line.

use std::time::Duration;

use super::raw::Raw;

/// How an answer is streamed to Open WebUI.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSettings {
    /// Text arriving within this window of the last chunk sent is merged; zero is off.
    pub coalesce_window: Duration,
    /// A merged chunk is sent once it holds this many characters.
    pub coalesce_max_chars: usize,
    /// Where live reasoning is shown.
    pub thinking_mode: ThinkingMode,
    /// End with a detailed usage status line (`SHOW_FINAL_USAGE_STATUS`) rather than a
    /// short one ("Thought for N seconds").
    pub show_final_usage: bool,
}

impl StreamSettings {
    pub(super) fn read(raw: &Raw) -> Self {
        Self {
            coalesce_window: Duration::from_millis(
                raw.int("STREAM_COALESCE_WINDOW_MS").max(0) as u64
            ),
            coalesce_max_chars: raw.int("STREAM_COALESCE_MAX_CHARS").max(1) as usize,
            thinking_mode: match raw.choice("THINKING_OUTPUT_MODE").as_str() {
                "status" => ThinkingMode::Status,
                "both" => ThinkingMode::Both,
                _ => ThinkingMode::OpenWebUi,
            },
            show_final_usage: raw.bool("SHOW_FINAL_USAGE_STATUS"),
        }
    }
}

/// Where live reasoning is shown (`THINKING_OUTPUT_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThinkingMode {
    /// In Open WebUI's collapsible thinking box (`open_webui`).
    #[default]
    OpenWebUi,
    /// As status lines above the answer (`status`).
    Status,
    /// In the box and as status lines (`both`).
    Both,
}

impl ThinkingMode {
    /// Whether reasoning text goes into the thinking box.
    pub(crate) fn shows_box(self) -> bool {
        matches!(self, Self::OpenWebUi | Self::Both)
    }

    /// Whether reasoning progress is shown as status lines.
    pub(crate) fn shows_status(self) -> bool {
        matches!(self, Self::Status | Self::Both)
    }
}
