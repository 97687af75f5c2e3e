//! Each rule of the strict-schema transform, as a model provider would see the schema a
//! tool sends, plus the input an admin's broken tool can produce.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::{strictify, Lru, CACHE_ENTRIES, MAX_DEPTH};

fn weather_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "location": {"type": "string"},
            "unit": {"type": "string", "enum": ["c", "f"]},
            "days": {"type": "integer"},
        },
        "required": ["location"],
    })
}

#[test]
fn required_lists_every_property_alphabetically_and_optional_ones_become_nullable() {
    let strict = strictify(&weather_schema());
    assert_eq!(strict["required"], json!(["days", "location", "unit"]));
    assert_eq!(strict["additionalProperties"], json!(false));
    assert_eq!(strict["properties"]["location"]["type"], json!("string"));
    assert_eq!(
        strict["properties"]["days"]["type"],
        json!(["integer", "null"])
    );
    assert_eq!(
        strict["properties"]["unit"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(strict["properties"]["unit"]["enum"], json!(["c", "f"]));
}

#[test]
fn without_a_required_list_every_property_is_required_and_nullable() {
    let strict = strictify(&json!({
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "number"}},
    }));
    assert_eq!(strict["required"], json!(["limit", "query"]));
    assert_eq!(
        strict["properties"]["query"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(
        strict["properties"]["limit"]["type"],
        json!(["number", "null"])
    );
}

#[test]
fn nested_objects_are_closed_and_their_optional_fields_nullable() {
    let strict = strictify(&json!({
        "type": "object",
        "properties": {
            "filter": {
                "type": "object",
                "properties": {"status": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
                "required": ["status"],
            },
            "limit": {"type": "integer"},
        },
        "required": ["filter"],
    }));
    let filter = &strict["properties"]["filter"];
    assert_eq!(filter["type"], json!("object"));
    assert_eq!(filter["additionalProperties"], json!(false));
    assert_eq!(filter["required"], json!(["status", "tags"]));
    assert_eq!(filter["properties"]["status"]["type"], json!("string"));
    assert_eq!(
        filter["properties"]["tags"]["type"],
        json!(["array", "null"])
    );
    assert_eq!(
        strict["properties"]["limit"]["type"],
        json!(["integer", "null"])
    );
}

#[test]
fn an_empty_optional_property_becomes_a_closed_nullable_object() {
    let strict = strictify(&json!({"type": "object", "properties": {"extra": {}}}));
    assert_eq!(
        strict["properties"]["extra"],
        json!({"type": ["object", "null"], "properties": {}, "required": [], "additionalProperties": false})
    );
}

#[test]
fn a_description_only_property_keeps_its_description_and_becomes_an_object() {
    let strict = strictify(&json!({
        "type": "object",
        "properties": {"headers": {"description": "HTTP headers"}},
    }));
    let headers = &strict["properties"]["headers"];
    assert_eq!(headers["type"], json!(["object", "null"]));
    assert_eq!(headers["description"], json!("HTTP headers"));
    assert_eq!(headers["additionalProperties"], json!(false));
}

#[test]
fn a_required_empty_property_is_an_object_but_not_nullable() {
    let strict = strictify(&json!({
        "type": "object",
        "properties": {"auth_headers": {}},
        "required": ["auth_headers"],
    }));
    let auth = &strict["properties"]["auth_headers"];
    assert_eq!(auth["type"], json!("object"));
    assert_eq!(auth["additionalProperties"], json!(false));
    assert_eq!(strict["required"], json!(["auth_headers"]));
}

#[test]
fn empty_schemas_nested_inside_objects_get_an_object_type() {
    let strict = strictify(&json!({
        "type": "object",
        "properties": {"outer": {"type": "object", "properties": {"inner": {}}}},
    }));
    let inner = &strict["properties"]["outer"]["properties"]["inner"];
    assert_eq!(inner["type"], json!(["object", "null"]));
    assert_eq!(inner["additionalProperties"], json!(false));
}

#[test]
fn missing_types_are_inferred_from_properties_and_items() {
    let strict = strictify(&json!({
        "type": "object",
        "properties": {
            "point": {"properties": {"x": {"type": "number"}}},
            "ids": {"items": {"type": "string"}},
            "must": {"properties": {}},
        },
        "required": ["must"],
    }));
    assert_eq!(
        strict["properties"]["point"]["type"],
        json!(["object", "null"])
    );
    assert_eq!(strict["properties"]["point"]["required"], json!(["x"]));
    assert_eq!(
        strict["properties"]["ids"]["type"],
        json!(["array", "null"])
    );
    assert_eq!(strict["properties"]["must"]["type"], json!("object"));
}

#[test]
fn a_bare_combinator_property_gets_no_type_and_stays_as_written() {
    let choice = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
    let strict = strictify(&json!({"type": "object", "properties": {"id": choice}}));
    assert_eq!(strict["properties"]["id"], choice);
    assert_eq!(strict["required"], json!(["id"]));
}

#[test]
fn empty_items_become_a_closed_object() {
    let strict = strictify(&json!({
        "type": "object",
        "properties": {"rows": {"type": "array", "items": {}}},
        "required": ["rows"],
    }));
    let items = &strict["properties"]["rows"]["items"];
    assert_eq!(items["type"], json!("object"));
    assert_eq!(items["additionalProperties"], json!(false));
}

#[test]
fn item_lists_are_walked_without_adding_types() {
    let strict = strictify(&json!({
        "type": "object",
        "properties": {"pair": {"type": "array", "items": [{}, {"properties": {"a": {"type": "string"}}}]}},
        "required": ["pair"],
    }));
    let items = &strict["properties"]["pair"]["items"];
    assert_eq!(items[0], json!({}));
    assert_eq!(items[1]["required"], json!(["a"]));
    assert_eq!(items[1]["additionalProperties"], json!(false));
}

#[test]
fn shapeless_any_of_and_one_of_branches_become_objects_but_never_nullable() {
    let strict = strictify(&json!({
        "type": "object",
        "properties": {
            "value": {"anyOf": [{"type": "string"}, {}]},
            "shape": {"oneOf": [{"properties": {"r": {"type": "number"}}}]},
        },
        "required": ["value", "shape"],
    }));
    let any = &strict["properties"]["value"]["anyOf"];
    assert_eq!(any[0], json!({"type": "string"}));
    assert_eq!(any[1]["type"], json!("object"));
    assert_eq!(any[1]["additionalProperties"], json!(false));
    let one = &strict["properties"]["shape"]["oneOf"][0];
    assert!(
        one.get("type").is_none(),
        "a branch with properties keeps no type: {one}"
    );
    assert_eq!(one["required"], json!(["r"]));
    assert_eq!(one["properties"]["r"]["type"], json!(["number", "null"]));
}

#[test]
fn all_of_is_left_alone() {
    let parts = json!([{"properties": {"a": {"type": "string"}}}]);
    let strict = strictify(
        &json!({"type": "object", "properties": {"x": {"allOf": parts}}, "required": ["x"]}),
    );
    assert_eq!(strict["properties"]["x"]["allOf"], parts);
}

#[test]
fn type_lists_gain_null_once_and_null_types_stay() {
    let strict = strictify(&json!({
        "type": "object",
        "properties": {
            "either": {"type": ["string", "number"]},
            "already": {"type": ["string", "null"]},
            "nothing": {"type": "null"},
        },
    }));
    assert_eq!(
        strict["properties"]["either"]["type"],
        json!(["string", "number", "null"])
    );
    assert_eq!(
        strict["properties"]["already"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(strict["properties"]["nothing"]["type"], json!("null"));
}

#[test]
fn a_non_object_root_is_wrapped_under_value() {
    assert_eq!(
        strictify(&json!({"type": "string", "description": "text"})),
        json!({
            "type": "object",
            "properties": {"value": {"type": "string", "description": "text"}},
            "required": ["value"],
            "additionalProperties": false,
        })
    );
}

#[test]
fn roots_that_are_objects_by_type_list_or_by_properties_are_not_wrapped() {
    let by_list =
        strictify(&json!({"type": ["object", "null"], "properties": {"a": {"type": "string"}}}));
    assert_eq!(by_list["required"], json!(["a"]));
    let by_properties = strictify(&json!({"properties": {"a": {"type": "string"}}}));
    assert_eq!(by_properties["required"], json!(["a"]));
    assert!(by_properties["properties"].get("value").is_none());
}

#[test]
fn non_object_input_gives_an_empty_schema() {
    for junk in [
        json!(null),
        json!("schema"),
        json!(3),
        json!([{"type": "object"}]),
        json!(true),
    ] {
        assert_eq!(strictify(&junk), json!({}), "input {junk}");
    }
}

#[test]
fn malformed_properties_and_required_entries_are_repaired() {
    let strict =
        strictify(&json!({"type": "object", "properties": "oops", "required": ["ghost", 7]}));
    assert_eq!(
        strict,
        json!({"type": "object", "properties": {}, "required": [], "additionalProperties": false})
    );
    let strict = strictify(&json!({
        "type": "object",
        "properties": {"flag": true, "name": {"type": "string"}},
        "required": [3, "name"],
    }));
    assert_eq!(strict["required"], json!(["flag", "name"]));
    assert_eq!(strict["properties"]["flag"], json!(true));
    assert_eq!(strict["properties"]["name"]["type"], json!("string"));
}

#[test]
fn output_keys_are_in_alphabetical_order() {
    let strict = strictify(&json!({
        "type": "object",
        "properties": {"zeta": {"type": "string"}, "alpha": {"type": "string"}},
    }));
    let text = strict.to_string();
    assert!(
        text.find("\"alpha\"").unwrap() < text.find("\"zeta\"").unwrap(),
        "{text}"
    );
    assert!(
        text.starts_with("{\"additionalProperties\":false,\"properties\""),
        "{text}"
    );
}

/// Object schemas nested `levels` deep through a property named `child`.
fn nested(levels: usize) -> Value {
    let mut node = json!({"type": "object", "properties": {}});
    for _ in 0..levels {
        node = json!({"type": "object", "properties": {"child": node}});
    }
    node
}

#[test]
fn deep_nesting_is_walked_to_the_cap_and_left_as_is_below_it() {
    let strict = strictify(&nested(200));
    let mut node = &strict;
    for depth in 0..200 {
        let closed = node.get("additionalProperties").is_some();
        assert_eq!(closed, depth < MAX_DEPTH, "depth {depth}");
        node = &node["properties"]["child"];
    }
}

#[test]
fn repeated_schemas_come_back_identical_and_the_input_is_untouched() {
    let input = weather_schema();
    let first = strictify(&input);
    assert_eq!(strictify(&input), first);
    assert_eq!(input, weather_schema());
    // More distinct schemas than the cache holds still transform correctly.
    for n in 0..(CACHE_ENTRIES * 2) {
        let schema = json!({"type": "object", "properties": {format!("p{n}"): {"type": "string"}}});
        assert_eq!(strictify(&schema)["required"], json!([format!("p{n}")]));
    }
    assert_eq!(strictify(&input), first);
}

#[test]
fn the_cache_drops_the_least_recently_used_schema_when_full() {
    let mut lru = Lru {
        entries: Default::default(),
        clock: 0,
    };
    for n in 0..CACHE_ENTRIES {
        lru.put(format!("k{n}"), json!(n).into());
    }
    assert!(lru.get("k0").is_some());
    lru.put("new".into(), json!("new").into());
    assert_eq!(lru.entries.len(), CACHE_ENTRIES);
    assert!(lru.get("k0").is_some(), "recently used entry kept");
    assert!(lru.get("k1").is_none(), "oldest entry dropped");
    assert!(lru.get("new").is_some());
}

/// Schema-like values: the keys the transform reacts to, with any JSON beneath them.
fn schema_like() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(json!({})),
        Just(json!(null)),
        Just(json!("x")),
        Just(json!({"type": "string"})),
        Just(json!({"type": ["integer", "null"]})),
        Just(json!({"description": "d"})),
    ];
    leaf.prop_recursive(6, 48, 4, |inner| {
        let key = prop_oneof![
            Just("properties"),
            Just("items"),
            Just("anyOf"),
            Just("oneOf"),
            Just("allOf"),
            Just("a"),
            Just("b"),
            Just("type"),
            Just("required"),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map(key, inner, 0..4).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

/// Every node the transform treats as an object, walked the same way, is closed.
fn assert_closed(node: &Value) {
    let Some(map) = node.as_object() else { return };
    if super::is_object_node(node) {
        assert_eq!(
            map.get("additionalProperties"),
            Some(&json!(false)),
            "{node}"
        );
        let names: Vec<Value> = map["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| json!(k))
            .collect();
        assert_eq!(map.get("required"), Some(&Value::Array(names)), "{node}");
        for p in map["properties"].as_object().unwrap().values() {
            assert_closed(p);
        }
    }
    match map.get("items") {
        Some(Value::Array(items)) => items.iter().for_each(assert_closed),
        Some(items) => assert_closed(items),
        None => {}
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = map.get(key) {
            branches.iter().for_each(assert_closed);
        }
    }
}

proptest! {
    #[test]
    fn any_object_schema_comes_out_closed_and_a_second_pass_changes_nothing(schema in schema_like()) {
        let strict = strictify(&schema);
        prop_assert!(strict.is_object());
        if schema.is_object() {
            prop_assert!(super::is_object_node(&strict));
            assert_closed(&strict);
            prop_assert_eq!(strictify(&strict), strict);
        } else {
            prop_assert_eq!(strict, json!({}));
        }
    }
}

#[test]
fn enums_and_consts_get_the_type_of_their_values() {
    let out = strictify(&json!({
        "type": "object",
        "properties": {
            "unit": {"enum": ["c", "f"]},
            "level": {"enum": [1, 2]},
            "fixed": {"const": true},
            "mixed": {"enum": ["a", 1]},
            "linked": {"$ref": "#/defs/x"}
        },
        "required": ["unit", "level", "fixed", "mixed", "linked"]
    }));
    let props = &out["properties"];
    assert_eq!(props["unit"]["type"], json!("string"));
    assert_eq!(props["level"]["type"], json!("integer"));
    assert_eq!(props["fixed"]["type"], json!("boolean"));
    assert_eq!(props["mixed"]["type"], json!("object"));
    assert!(props["linked"].get("type").is_none());
}
