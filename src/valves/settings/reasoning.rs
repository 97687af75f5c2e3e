//! How much thinking is asked of models, and how Gemini's thinking is expressed.

use super::raw::Raw;

/// How much thinking is asked of models.
#[derive(Debug, Clone, PartialEq)]
pub struct ReasoningSettings {
    /// Ask reasoning models to reason and show it (`ENABLE_REASONING`).
    pub enabled: bool,
    /// Default effort for chats (`none` … `xhigh`).
    pub effort: String,
    /// Effort for background tasks such as titles.
    pub task_effort: String,
    /// `auto`, `concise`, `detailed` or `disabled`.
    pub summary_mode: String,
    /// Gemini 3: `auto`, `low` or `high`.
    pub gemini_thinking_level: String,
    /// Gemini 2.5: base thinking budget in tokens, scaled with the effort.
    pub gemini_thinking_budget: i64,
}

impl ReasoningSettings {
    pub(super) fn read(raw: &Raw) -> Self {
        Self {
            enabled: raw.bool("ENABLE_REASONING"),
            effort: raw.choice("REASONING_EFFORT"),
            task_effort: raw.choice("TASK_MODEL_REASONING_EFFORT"),
            summary_mode: raw.choice("REASONING_SUMMARY_MODE"),
            gemini_thinking_level: raw.choice("GEMINI_THINKING_LEVEL"),
            gemini_thinking_budget: raw.int("GEMINI_THINKING_BUDGET"),
        }
    }
}
