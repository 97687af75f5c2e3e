//! Which artifacts are stored, and for how long reasoning is kept.

use std::fmt;
use std::str::FromStr;

use super::normalize::is_non_replayable;

/// `PERSIST_REASONING_TOKENS`: how long a model's reasoning is kept and sent back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum ReasoningRetention {
    /// Reasoning is never stored.
    Disabled,
    /// Reasoning is replayed on the next turn only, then deleted.
    NextReply,
    /// Reasoning is kept for the whole conversation (until cleanup).
    #[default]
    Conversation,
}

impl ReasoningRetention {
    /// The valve's spelling of this choice (`next_reply`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::NextReply => "next_reply",
            Self::Conversation => "conversation",
        }
    }
}

impl fmt::Display for ReasoningRetention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReasoningRetention {
    type Err = String;

    /// Parses the valve value (case and surrounding whitespace ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "disabled" => Ok(Self::Disabled),
            "next_reply" => Ok(Self::NextReply),
            "conversation" => Ok(Self::Conversation),
            other => Err(format!("unknown reasoning retention: {other:?}")),
        }
    }
}

/// Whether an output item of `item_type` is stored for replay.
///
/// * `reasoning`: unless retention is [`ReasoningRetention::Disabled`];
/// * `message` (visible text, already in the chat), items without a type and the
///   non-replayable tool calls (`web_search_call`, `file_search_call`,
///   `image_generation_call`, `local_shell_call`): never;
/// * everything else (`function_call`, `function_call_output`, other tool items): when
///   `persist_tool_results` (`PERSIST_TOOL_RESULTS`) is on.
pub fn should_persist(
    item_type: &str,
    retention: ReasoningRetention,
    persist_tool_results: bool,
) -> bool {
    let t = item_type.trim();
    if t.eq_ignore_ascii_case("reasoning") {
        return retention != ReasoningRetention::Disabled;
    }
    if t.is_empty() || t.eq_ignore_ascii_case("message") || is_non_replayable(t) {
        return false;
    }
    persist_tool_results
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReasoningRetention::*;

    #[test]
    fn parse_and_display() {
        assert_eq!(" Next_Reply ".parse(), Ok(NextReply));
        assert_eq!("disabled".parse(), Ok(Disabled));
        assert_eq!("conversation".parse(), Ok(Conversation));
        assert!("forever".parse::<ReasoningRetention>().is_err());
        assert_eq!(NextReply.to_string(), "next_reply");
        assert_eq!(ReasoningRetention::default(), Conversation);
    }

    #[test]
    fn persistence_rules() {
        assert!(!should_persist("reasoning", Disabled, true));
        assert!(should_persist("reasoning", NextReply, false));
        assert!(should_persist("reasoning", Conversation, false));
        assert!(should_persist("function_call", Conversation, true));
        assert!(should_persist("function_call_output", Disabled, true));
        assert!(!should_persist("function_call", Conversation, false));
        assert!(!should_persist("function_call_output", Conversation, false));
        assert!(should_persist("mcp_call", Conversation, true));
        for t in [
            "message",
            "web_search_call",
            "file_search_call",
            "image_generation_call",
            "local_shell_call",
            "",
        ] {
            assert!(!should_persist(t, Conversation, true), "{t}");
        }
    }
}
