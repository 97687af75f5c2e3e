//! `MODEL_ID`: which catalog models the pipe exposes.

use super::model::{sanitize_model_id, Model};

/// Normalises an id for matching: lower-case, `/` → `.`, and a trailing `-YYYY-MM-DD`
/// date removed, so `openai/gpt-4o-2024-08-06` and `openai.gpt-4o` select the same model.
pub fn normalize(id: &str) -> String {
    let id = sanitize_model_id(id).to_ascii_lowercase();
    let bytes = id.as_bytes();
    if bytes.len() > 11 {
        let tail = &id[id.len() - 11..];
        let b = tail.as_bytes();
        let is_date = b[0] == b'-'
            && b[5] == b'-'
            && b[8] == b'-'
            && [1, 2, 3, 4, 6, 7, 9, 10]
                .iter()
                .all(|&i| b[i].is_ascii_digit());
        if is_date {
            return id[..id.len() - 11].to_string();
        }
    }
    id
}

/// The models to expose. `auto` or empty means all; otherwise a comma list of ids.
/// When nothing in the list matches, every model is returned (a typo must not empty
/// the model selector) together with the ids that did not match.
pub fn select<'a>(model_id_valve: &str, models: &'a [Model]) -> (Vec<&'a Model>, Vec<String>) {
    let wanted: Vec<String> = model_id_valve
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if wanted.is_empty() || (wanted.len() == 1 && wanted[0].eq_ignore_ascii_case("auto")) {
        return (models.iter().collect(), Vec::new());
    }
    let keys: Vec<String> = wanted.iter().map(|w| normalize(w)).collect();
    let chosen: Vec<&Model> = models
        .iter()
        .filter(|m| keys.contains(&normalize(&m.id)))
        .collect();
    let missing = wanted
        .iter()
        .zip(&keys)
        .filter(|(_, key)| !models.iter().any(|m| &normalize(&m.id) == *key))
        .map(|(w, _)| w.clone())
        .collect();
    if chosen.is_empty() {
        (models.iter().collect(), missing)
    } else {
        (chosen, missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str) -> Model {
        Model {
            id: id.into(),
            ..Model::default()
        }
    }

    #[test]
    fn auto_selects_everything() {
        let models = vec![model("a/x"), model("b/y")];
        assert_eq!(select("auto", &models).0.len(), 2);
        assert_eq!(select(" ", &models).0.len(), 2);
    }

    #[test]
    fn list_matches_slash_dot_and_dated_forms() {
        let models = vec![model("openai/gpt-4o"), model("b/y")];
        let (chosen, missing) = select("openai.gpt-4o-2024-08-06, nope/z", &models);
        assert_eq!(chosen.len(), 1);
        assert_eq!(missing, vec!["nope/z".to_string()]);
    }

    #[test]
    fn no_match_falls_back_to_all() {
        let models = vec![model("a/x")];
        let (chosen, missing) = select("zzz", &models);
        assert_eq!((chosen.len(), missing.len()), (1, 1));
    }
}
