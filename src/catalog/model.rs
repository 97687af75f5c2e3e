//! One catalog entry, parsed once into typed fields (unknown fields ignored, every
//! field optional so a catalog change upstream cannot break the model list).

use serde::Deserialize;

/// What a model takes in and gives out (`architecture` in the catalog).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Architecture {
    /// Accepted inputs: `text`, `image`, `file`, `audio`, …
    pub input_modalities: Vec<String>,
    /// Produced outputs: `text`, `image`, …
    pub output_modalities: Vec<String>,
}

/// Limits of the provider OpenRouter routes to first (`top_provider`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TopProvider {
    /// Its context window in tokens.
    pub context_length: Option<u64>,
    /// The most tokens it writes in one answer.
    pub max_completion_tokens: Option<u64>,
}

/// How a model reasons, when the catalog says (`reasoning`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReasoningInfo {
    /// Effort levels it accepts (`low`, `high`, …).
    pub supported_efforts: Option<Vec<String>>,
    /// The effort it uses when none is asked for.
    pub default_effort: Option<String>,
    /// Whether reasoning cannot be turned off.
    pub mandatory: Option<bool>,
    /// Whether a reasoning token budget is accepted.
    pub supports_max_tokens: Option<bool>,
}

/// One model of OpenRouter's `/models` catalog.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Model {
    /// The OpenRouter model id (`openai/gpt-4o`).
    pub id: String,
    /// The dated, permanent slug behind `id`.
    pub canonical_slug: Option<String>,
    /// The display name (`OpenAI: GPT-4o`).
    pub name: String,
    /// OpenRouter's description of the model.
    pub description: Option<String>,
    /// Context window in tokens.
    pub context_length: Option<u64>,
    /// Input and output modalities.
    pub architecture: Architecture,
    /// Prices per token or per request, by kind (`prompt`, `web_search`, …).
    pub pricing: serde_json::Map<String, serde_json::Value>,
    /// Limits of the first provider.
    pub top_provider: TopProvider,
    /// Request parameters the model accepts (`reasoning`, `tools`, …).
    pub supported_parameters: Vec<String>,
    /// Reasoning details, for reasoning models.
    pub reasoning: Option<ReasoningInfo>,
}

impl Model {
    /// The id Open WebUI sees (after the Function id prefix): `vendor/model` → `vendor.model`.
    pub fn owui_id(&self) -> String {
        sanitize_model_id(&self.id)
    }

    /// The display name, falling back to the id.
    pub fn display_name(&self) -> &str {
        if self.name.trim().is_empty() {
            &self.id
        } else {
            &self.name
        }
    }

    /// Whether `parameter` is among its supported parameters.
    pub fn supports(&self, parameter: &str) -> bool {
        self.supported_parameters.iter().any(|p| p == parameter)
    }
}

/// Open WebUI splits model ids on the first `.` to find the Function, and treats `/`
/// specially in URLs, so every `/` becomes `.` (case and suffixes are kept).
pub fn sanitize_model_id(id: &str) -> String {
    id.trim().replace('/', ".")
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CatalogBody {
    data: Vec<serde_json::Value>,
}

/// Parses a `/models` body. Entries that are not objects or have no id are skipped
/// (counted in the second value) rather than failing the whole catalog.
pub fn parse_catalog(body: &[u8]) -> Result<(Vec<Model>, usize), String> {
    let parsed: CatalogBody =
        serde_json::from_slice(body).map_err(|e| format!("catalog is not valid JSON: {e}"))?;
    let total = parsed.data.len();
    let models: Vec<Model> = parsed
        .data
        .into_iter()
        .filter_map(|v| serde_json::from_value::<Model>(v).ok())
        .filter(|m| !m.id.trim().is_empty())
        .collect();
    let skipped = total - models.len();
    Ok((models, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slashes_become_dots_and_everything_else_stays() {
        assert_eq!(sanitize_model_id("openai/gpt-4.1"), "openai.gpt-4.1");
        assert_eq!(
            sanitize_model_id("meta-llama/llama-3.3-70b-instruct:free"),
            "meta-llama.llama-3.3-70b-instruct:free"
        );
    }

    #[test]
    fn fixture_catalog_parses_every_model() {
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/openrouter/models.json"
        ))
        .unwrap();
        let (models, skipped) = parse_catalog(&body).unwrap();
        assert_eq!((models.len(), skipped), (13, 0));
        let mini = models
            .iter()
            .find(|m| m.id == "openai/gpt-4o-mini")
            .unwrap();
        assert_eq!(mini.display_name(), "OpenAI: GPT-4o-mini");
        assert!(mini.supports("tools"));
    }

    #[test]
    fn broken_entries_are_skipped_not_fatal() {
        let (models, skipped) =
            parse_catalog(br#"{"data":[{"id":"a/b","name":"A"},42,{"name":"no id"}]}"#).unwrap();
        assert_eq!((models.len(), skipped), (1, 2));
        assert!(parse_catalog(b"<html>").is_err());
    }
}
