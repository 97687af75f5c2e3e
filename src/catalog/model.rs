//! One catalog entry, parsed once into typed fields (unknown fields ignored, every
//! field optional so a catalog change upstream cannot break the model list).

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Architecture {
    pub input_modalities: Vec<String>,
    pub output_modalities: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TopProvider {
    pub context_length: Option<u64>,
    pub max_completion_tokens: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReasoningInfo {
    pub supported_efforts: Option<Vec<String>>,
    pub default_effort: Option<String>,
    pub mandatory: Option<bool>,
    pub supports_max_tokens: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Model {
    pub id: String,
    pub canonical_slug: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub context_length: Option<u64>,
    pub architecture: Architecture,
    pub pricing: serde_json::Map<String, serde_json::Value>,
    pub top_provider: TopProvider,
    pub supported_parameters: Vec<String>,
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
