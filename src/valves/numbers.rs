//! The one place a numeric valve's value is clamped. The bounds are the declaration's
//! `min`/`max`, the same ones the generated pydantic models enforce as `ge`/`le`, so no
//! reading site restates a default or a bound and the form and the engine cannot disagree.

use serde_json::Value;

use super::spec::{DefaultValue, ValveSpec};

impl ValveSpec {
    /// `n` moved into the declared bounds.
    pub fn clamp_int(&self, n: i64) -> i64 {
        let n = match self.min {
            Some(lo) if (n as f64) < lo => lo.ceil() as i64,
            _ => n,
        };
        match self.max {
            Some(hi) if (n as f64) > hi => hi.floor() as i64,
            _ => n,
        }
    }

    /// `x` moved into the declared bounds (a non-finite value becomes the default).
    pub fn clamp_float(&self, x: f64) -> f64 {
        if !x.is_finite() {
            return self.default_float();
        }
        let x = self.min.map_or(x, |lo| x.max(lo));
        self.max.map_or(x, |hi| x.min(hi))
    }

    /// The integer a stored value stands for, within bounds: the declared default when
    /// it is missing or not a number; `None` only when the valve may be left empty and
    /// is (an explicit `null`, or missing with an empty default).
    pub fn int_value(&self, raw: Option<&Value>) -> Option<i64> {
        let n = match raw {
            Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Some(Value::Null) if self.ty == super::spec::ValveType::OptionalInt => None,
            _ => match self.default {
                DefaultValue::Int(i) => Some(i),
                _ => None,
            },
        };
        n.map(|n| self.clamp_int(n))
    }

    /// The number a stored value stands for, within bounds; the declared default when it
    /// is missing or not a number.
    pub fn float_value(&self, raw: Option<&Value>) -> f64 {
        match raw.and_then(Value::as_f64) {
            Some(x) => self.clamp_float(x),
            None => self.clamp_float(self.default_float()),
        }
    }

    fn default_float(&self) -> f64 {
        match self.default {
            DefaultValue::Float(f) => f,
            DefaultValue::Int(i) => i as f64,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::valves::spec::ValveSpec;

    fn spec(name: &str) -> &'static ValveSpec {
        ValveSpec::find(name).unwrap()
    }

    #[test]
    fn values_outside_the_bounds_land_on_the_declared_bound() {
        let batch = spec("DB_BATCH_SIZE");
        assert_eq!(batch.int_value(Some(&json!(1000))), Some(20));
        assert_eq!(batch.int_value(Some(&json!(1))), Some(5));
        assert_eq!(batch.int_value(Some(&json!(12))), Some(12));
        let days = spec("ARTIFACT_CLEANUP_DAYS");
        assert_eq!(days.int_value(Some(&json!(3650))), Some(365));
        assert_eq!(days.int_value(Some(&json!(0))), Some(1));
        let hours = spec("ARTIFACT_CLEANUP_INTERVAL_HOURS");
        assert_eq!(hours.float_value(Some(&json!(0.1))), 0.5);
        assert_eq!(hours.float_value(Some(&json!(48))), 24.0);
    }

    #[test]
    fn missing_or_mistyped_values_take_the_declared_default() {
        let batch = spec("DB_BATCH_SIZE");
        assert_eq!(batch.int_value(None), Some(10));
        assert_eq!(batch.int_value(Some(&json!("many"))), Some(10));
        assert_eq!(batch.int_value(Some(&json!(null))), Some(10));
        assert_eq!(batch.int_value(Some(&json!(7.9))), Some(7));
        let hours = spec("ARTIFACT_CLEANUP_INTERVAL_HOURS");
        assert_eq!(hours.float_value(Some(&json!("soon"))), 1.0);
    }

    #[test]
    fn an_optional_valve_left_empty_stays_empty() {
        let total = spec("HTTP_TOTAL_TIMEOUT_SECONDS");
        assert_eq!(total.int_value(None), None);
        assert_eq!(total.int_value(Some(&json!(null))), None);
        assert_eq!(total.int_value(Some(&json!(0))), Some(1));
        let results = spec("WEB_SEARCH_MAX_RESULTS");
        assert_eq!(results.int_value(None), Some(3));
        assert_eq!(results.int_value(Some(&json!(null))), None);
        assert_eq!(results.int_value(Some(&json!(50))), Some(10));
    }

    #[test]
    fn every_numeric_default_is_its_own_clamp() {
        for v in crate::valves::table::VALVES {
            if let Some(n) = v.int_value(None) {
                assert_eq!(v.clamp_int(n), n, "{}", v.name);
            }
        }
    }

    #[test]
    fn the_form_bounds_are_where_the_engine_clamps() {
        let exported: Vec<serde_json::Value> =
            serde_json::from_str(&crate::valves::export::valves_json()).unwrap();
        for form in exported {
            let v = spec(form["name"].as_str().unwrap());
            let (ge, le) = (form["min"].as_f64(), form["max"].as_f64());
            match v.ty {
                crate::valves::spec::ValveType::Float => {
                    if let Some(ge) = ge {
                        assert_eq!(v.float_value(Some(&json!(ge - 1.0))), ge, "{}", v.name);
                    }
                    if let Some(le) = le {
                        assert_eq!(v.float_value(Some(&json!(le + 1.0))), le, "{}", v.name);
                    }
                }
                crate::valves::spec::ValveType::Int
                | crate::valves::spec::ValveType::OptionalInt => {
                    if let Some(ge) = ge {
                        let below = json!(ge as i64 - 1);
                        assert_eq!(v.int_value(Some(&below)), Some(ge as i64), "{}", v.name);
                    }
                    if let Some(le) = le {
                        let above = json!(le as i64 + 1);
                        assert_eq!(v.int_value(Some(&above)), Some(le as i64), "{}", v.name);
                    }
                }
                _ => assert!(ge.is_none() && le.is_none(), "{}", v.name),
            }
        }
    }
}
