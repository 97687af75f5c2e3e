//! The strict-schema transform: rewrites a tool's JSON Schema so a provider's strict mode
//! accepts it (every object closed with `additionalProperties: false`, every property
//! listed in `required`, formerly optional ones made nullable), with the same rules as the
//! reference pipe so tools behave the same through either. Tool schemas repeat on every
//! request and every tool round, so results are kept in a small process-wide cache.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use serde_json::{json, Map, Value};

/// How many distinct schemas the cache keeps (the reference's LRU size).
const CACHE_ENTRIES: usize = 128;

/// Schemas whose canonical text is longer than this are transformed but not cached, so
/// the cache holds at most a few megabytes whatever tools an admin installs.
const MAX_CACHED_KEY_BYTES: usize = 64 * 1024;

/// Nesting levels of schema nodes (properties, items, branches) the transform walks.
/// Deeper nodes are left exactly as they were: no provider accepts strict schemas nested
/// this deep anyway, and the cap keeps hostile input from exhausting the stack. (Input
/// parsed by serde_json is already limited to 128 JSON levels, which keeps the
/// canonicalisation below recursion-safe too.)
const MAX_DEPTH: usize = 64;

/// The strict form of `schema`. A non-object input gives `{}`. Object keys come out in
/// alphabetical order (serde_json's map is sorted), so `required` is alphabetical too.
pub fn strictify(schema: &Value) -> Value {
    if !schema.is_object() {
        return Value::Object(Map::new());
    }
    // The canonical text: keys sorted, no whitespace, the same for equal schemas.
    let key = schema.to_string();
    if key.len() > MAX_CACHED_KEY_BYTES {
        return transform(schema.clone());
    }
    // Bound first, so the lock is released before the (possibly large) copy is made.
    let hit = cache().get(&key);
    if let Some(hit) = hit {
        return Value::clone(&hit);
    }
    let strict = Arc::new(transform(schema.clone()));
    cache().put(key, Arc::clone(&strict));
    Value::clone(&strict)
}

fn transform(schema: Value) -> Value {
    let mut root = if is_object_node(&schema) {
        schema
    } else {
        json!({
            "type": "object",
            "properties": {"value": schema},
            "required": ["value"],
            "additionalProperties": false,
        })
    };
    visit(&mut root, 0);
    root
}

/// An object node: it has `properties`, or its type is (or includes) `object`.
fn is_object_node(node: &Value) -> bool {
    let Some(map) = node.as_object() else {
        return false;
    };
    map.contains_key("properties")
        || match map.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
            _ => false,
        }
}

/// Whether a node says nothing about its shape (no `type`, `properties` or `items`).
fn lacks_shape(node: &Map<String, Value>) -> bool {
    !["type", "properties", "items"]
        .iter()
        .any(|k| node.contains_key(*k))
}

fn visit(node: &mut Value, depth: usize) {
    if depth >= MAX_DEPTH {
        return;
    }
    let object_node = is_object_node(node);
    let Some(map) = node.as_object_mut() else {
        return;
    };
    if object_node {
        close_object(map, depth);
    }
    match map.get_mut("items") {
        Some(items) if items.is_object() => {
            if let Value::Object(shape) = items {
                if lacks_shape(shape) {
                    shape.insert("type".into(), json!("object"));
                }
            }
            visit(items, depth + 1);
        }
        Some(Value::Array(items)) => {
            for item in items {
                visit(item, depth + 1);
            }
        }
        _ => {}
    }
    // Branches get a type when they have none and are walked, but never made nullable.
    // `allOf` is left alone, as in the reference.
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = map.get_mut(key) {
            for branch in branches {
                if let Value::Object(b) = branch {
                    if lacks_shape(b) {
                        b.insert("type".into(), json!("object"));
                    }
                }
                visit(branch, depth + 1);
            }
        }
    }
}

/// Closes one object node: `additionalProperties: false`, every property required,
/// the ones that were optional made nullable (after their missing type is inferred).
fn close_object(map: &mut Map<String, Value>, depth: usize) {
    let was_required: Vec<String> = match map.get("required") {
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    if !map.get("properties").is_some_and(Value::is_object) {
        map.insert("properties".into(), Value::Object(Map::new()));
    }
    map.insert("additionalProperties".into(), json!(false));
    let Some(Value::Object(properties)) = map.get_mut("properties") else {
        unreachable!("properties was just made an object");
    };
    let names: Vec<Value> = properties.keys().map(|k| json!(k)).collect();
    for (name, property) in properties.iter_mut() {
        if let Value::Object(p) = property {
            infer_type(p);
            if !was_required.iter().any(|r| r == name) {
                make_nullable(p);
            }
        }
        visit(property, depth + 1);
    }
    map.insert("required".into(), Value::Array(names));
}

/// A property without a type: `properties` means object, `items` means array, a bare
/// combinator (`anyOf`/`oneOf`/`allOf`) gets none, anything else is taken as an object.
fn infer_type(p: &mut Map<String, Value>) {
    if p.contains_key("type") {
        return;
    }
    let inferred = if p.contains_key("properties") {
        "object"
    } else if p.contains_key("items") {
        "array"
    } else if ["anyOf", "oneOf", "allOf", "$ref"]
        .iter()
        .any(|k| p.contains_key(*k))
    {
        return;
    } else {
        // An enum or const takes its values' type: the reference calls an enum of
        // strings an object, which makes the tool impossible to call.
        literal_type(p).unwrap_or("object")
    };
    p.insert("type".into(), json!(inferred));
}

/// The JSON type shared by every `enum` value (or the `const`), if there is one.
fn literal_type(p: &Map<String, Value>) -> Option<&'static str> {
    let values: Vec<&Value> = match (p.get("enum"), p.get("const")) {
        (Some(Value::Array(values)), _) => values.iter().collect(),
        (_, Some(value)) => vec![value],
        _ => return None,
    };
    let kind = |v: &Value| match v {
        Value::String(_) => Some("string"),
        Value::Bool(_) => Some("boolean"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
        Value::Number(_) => Some("number"),
        _ => None,
    };
    let first = kind(values.first()?)?;
    values
        .iter()
        .all(|v| kind(v) == Some(first))
        .then_some(first)
}

fn make_nullable(p: &mut Map<String, Value>) {
    match p.get_mut("type") {
        Some(Value::String(t)) if t != "null" => {
            let t = std::mem::take(t);
            p.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) if !types.iter().any(|t| t == "null") => {
            types.push(json!("null"));
        }
        _ => {}
    }
}

/// A least-recently-used map: a lookup stamps the entry, a full cache drops the oldest
/// stamp. A linear scan over 128 entries on eviction is cheaper than bookkeeping.
struct Lru {
    entries: HashMap<String, (Arc<Value>, u64)>,
    clock: u64,
}

impl Lru {
    fn get(&mut self, key: &str) -> Option<Arc<Value>> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|(value, used)| {
            *used = clock;
            Arc::clone(value)
        })
    }

    fn put(&mut self, key: String, value: Arc<Value>) {
        self.clock += 1;
        if self.entries.len() >= CACHE_ENTRIES && !self.entries.contains_key(&key) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, (value, self.clock));
    }
}

static CACHE: LazyLock<Mutex<Lru>> = LazyLock::new(|| {
    Mutex::new(Lru {
        entries: HashMap::with_capacity(CACHE_ENTRIES),
        clock: 0,
    })
});

/// The process-wide cache; a panic elsewhere while it was held leaves a usable cache
/// (every entry is complete when inserted), so poisoning is ignored.
fn cache() -> MutexGuard<'static, Lru> {
    CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
#[path = "strict_tests.rs"]
mod tests;
