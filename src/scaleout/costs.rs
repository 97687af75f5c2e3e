//! Cost snapshots (`COSTS_REDIS_DUMP`): one Redis key per model call (each round of an
//! answer, each task) with the usage OpenRouter reported, in the reference pipe's key
//! and JSON format, for billing pipelines that already read them:
//! `costs:<table fragment of the pipe id>:<user id>:<uuid4>:<epoch seconds>` holding
//! `{"guid", "email", "name", "model": "<pipe id>.<model>", "usage", "ts"}`, kept for
//! `COSTS_REDIS_TTL_SECONDS`. Building the record is Sans-IO ([`snapshot`]); writing it
//! ([`record`]) never waits on the answer and only logs at debug when it fails.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::artifacts::store::sanitize_table_fragment;
use crate::emit::LogLevel;
use crate::logsink;

/// Who and what one model call was for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caller {
    /// The pipe id (Function id).
    pub pipe_id: String,
    /// Open WebUI's user id.
    pub user_id: String,
    /// The user's e-mail address.
    pub email: String,
    /// The user's display name.
    pub name: String,
    /// The Open WebUI model id (`<pipe id>.<model>`).
    pub model: String,
}

/// A random RFC 4122 version 4 UUID, as Python's `uuid4()` prints it.
pub fn uuid4() -> String {
    let hi = crate::ids::random_bits();
    let lo = crate::ids::random_bits();
    let mut bytes = [0u8; 16];
    bytes[..10].copy_from_slice(&hi.to_be_bytes()[6..]);
    bytes[10..].copy_from_slice(&lo.to_be_bytes()[10..]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The key and JSON value of one snapshot, or the names of what is missing (the
/// reference writes nothing then, and logs them at debug).
pub fn snapshot(
    caller: &Caller,
    usage: Option<&Value>,
    now: SystemTime,
    uuid: &str,
) -> Result<(String, String), Vec<&'static str>> {
    let usage = usage.filter(|u| u.as_object().is_some_and(|m| !m.is_empty()));
    let mut missing = Vec::new();
    for (name, value) in [
        ("guid", caller.user_id.as_str()),
        ("email", caller.email.as_str()),
        ("name", caller.name.as_str()),
        ("model", caller.model.as_str()),
    ] {
        if value.trim().is_empty() {
            missing.push(name);
        }
    }
    if usage.is_none() {
        missing.push("usage");
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    let ts = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let key = format!(
        "costs:{}:{}:{uuid}:{ts}",
        sanitize_table_fragment(&caller.pipe_id),
        caller.user_id
    );
    let value = json!({
        "guid": caller.user_id,
        "email": caller.email,
        "name": caller.name,
        "model": caller.model,
        "usage": usage,
        "ts": ts,
    });
    Ok((key, value.to_string()))
}

/// Writes the snapshot of one call in the background, when the deployment uses Redis.
pub fn record(caller: &Caller, usage: Option<&Value>, ttl: Duration, cache_enabled: bool) {
    let Some(link) = super::process_link(cache_enabled) else {
        logsink::log(
            LogLevel::Debug,
            "Cost snapshot skipped: Redis is not in use in this deployment",
        );
        return;
    };
    let (key, value) = match snapshot(caller, usage, SystemTime::now(), &uuid4()) {
        Ok(kv) => kv,
        Err(missing) => {
            logsink::log(
                LogLevel::Debug,
                format!("Cost snapshot skipped; missing: {}", missing.join(", ")),
            );
            return;
        }
    };
    let Some(mut conn) = link.connection() else {
        logsink::log(
            LogLevel::Debug,
            "Cost snapshot skipped: Redis is not connected",
        );
        return;
    };
    crate::runtime::spawn(async move {
        let written: Result<(), _> = redis::cmd("SET")
            .arg(&key)
            .arg(&value)
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async(&mut conn)
            .await;
        if let Err(e) = written {
            logsink::log(LogLevel::Debug, format!("Cost snapshot not written: {e}"));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            pipe_id: "Open-Router!".into(),
            user_id: "u-1".into(),
            email: "ada@example.com".into(),
            name: "Ada".into(),
            model: "open-router.openai.gpt-4o".into(),
        }
    }

    #[test]
    fn the_key_and_json_follow_the_reference_format() {
        let usage = json!({"input_tokens": 10, "output_tokens": 5, "cost": 0.0012});
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let (key, value) = snapshot(&caller(), Some(&usage), now, "3f2c").unwrap();
        assert_eq!(key, "costs:open_router:u-1:3f2c:1700000000");
        let value: Value = serde_json::from_str(&value).unwrap();
        assert_eq!(
            value,
            json!({"guid": "u-1", "email": "ada@example.com", "name": "Ada",
                   "model": "open-router.openai.gpt-4o", "usage": usage, "ts": 1_700_000_000u64})
        );
    }

    #[test]
    fn nothing_is_written_without_the_user_details_or_usage() {
        let mut c = caller();
        c.email.clear();
        let missing = snapshot(&c, Some(&json!({})), SystemTime::now(), "x").unwrap_err();
        assert_eq!(missing, vec!["email", "usage"]);
    }

    #[test]
    fn uuids_are_version_4() {
        let id = uuid4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(id, uuid4());
    }
}
