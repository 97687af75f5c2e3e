//! Which OpenRouter API a chat is sent to: the Responses API or Chat Completions. An
//! admin picks a default, forces some models either way with wildcard patterns, and may
//! let a model that rejects the Responses API fall back to Chat Completions.

use super::raw::Raw;

/// One of OpenRouter's two chat APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Endpoint {
    /// `POST /responses`.
    #[default]
    Responses,
    /// `POST /chat/completions`.
    ChatCompletions,
}

/// Endpoint selection for chats.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EndpointSettings {
    /// `DEFAULT_LLM_ENDPOINT`.
    pub default: Endpoint,
    /// `FORCE_CHAT_COMPLETIONS_MODELS`, split and trimmed.
    pub force_chat_completions: Vec<String>,
    /// `FORCE_RESPONSES_MODELS`, split and trimmed; wins over the list above.
    pub force_responses: Vec<String>,
    /// `AUTO_FALLBACK_CHAT_COMPLETIONS`.
    pub auto_fallback: bool,
}

fn patterns(csv: &str) -> Vec<String> {
    csv.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

impl EndpointSettings {
    pub(super) fn read(raw: &Raw) -> Self {
        Self {
            default: match raw.choice("DEFAULT_LLM_ENDPOINT").as_str() {
                "chat_completions" => Endpoint::ChatCompletions,
                _ => Endpoint::Responses,
            },
            force_chat_completions: patterns(&raw.str("FORCE_CHAT_COMPLETIONS_MODELS")),
            force_responses: patterns(&raw.str("FORCE_RESPONSES_MODELS")),
            auto_fallback: raw.bool("AUTO_FALLBACK_CHAT_COMPLETIONS"),
        }
    }

    /// The endpoint a chat with `model_id` (OpenRouter's id, `vendor/model`) starts on:
    /// a `FORCE_RESPONSES_MODELS` match, else a `FORCE_CHAT_COMPLETIONS_MODELS` match,
    /// else the default. Patterns match case-insensitively, and a pattern written with
    /// `/` also matches the dotted form Open WebUI shows (`anthropic.claude-…`).
    pub fn choose(&self, model_id: &str) -> Endpoint {
        let id = model_id.trim().to_ascii_lowercase();
        let hit = |list: &[String]| list.iter().any(|p| model_matches(p, &id));
        if hit(&self.force_responses) {
            Endpoint::Responses
        } else if hit(&self.force_chat_completions) {
            Endpoint::ChatCompletions
        } else {
            self.default
        }
    }
}

fn model_matches(pattern: &str, id: &str) -> bool {
    let matches = |id: &str| {
        let dotted_id = id.replace('/', ".");
        let dotted_pattern = pattern.replace('/', ".");
        wildcard(pattern, id) || wildcard(&dotted_pattern, &dotted_id)
    };
    matches(id) || undated(id).is_some_and(matches)
}

/// The id without a trailing release date (`openai/gpt-4o-2024-11-20` or `…-20241120` →
/// `openai/gpt-4o`), so a pattern for a model also covers its dated snapshots, as the
/// reference's normalised ids do.
fn undated(id: &str) -> Option<&str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (head, tail) = id.rsplit_once('-')?;
    if tail.len() == 8 && digits(tail) {
        return Some(head);
    }
    // `-YYYY-MM-DD`: the last three dash-separated parts.
    let (head2, month) = head.rsplit_once('-')?;
    let (head3, year) = head2.rsplit_once('-')?;
    (year.len() == 4 && month.len() == 2 && tail.len() == 2)
        .then_some(())
        .filter(|_| digits(year) && digits(month) && digits(tail))
        .map(|_| head3)
}

/// Shell-style matching: `*` any run of characters, `?` exactly one.
fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
