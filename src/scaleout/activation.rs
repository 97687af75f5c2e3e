//! Whether this worker uses Redis: the reference pipe's rules (several uvicorn workers,
//! `REDIS_URL`, `WEBSOCKET_MANAGER=redis`, `WEBSOCKET_REDIS_URL`), decided from values
//! the Python side reads from the environment (and Open WebUI's own `open_webui.env`,
//! which defaults `WEBSOCKET_REDIS_URL` to `REDIS_URL`). Sans-IO: values in, a decision
//! and the warnings for an incomplete multi-worker set-up out. `ENABLE_REDIS_CACHE` is a
//! valve and is read per request, not here.

use serde::Deserialize;

/// What the environment says about the deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Deployment {
    /// `REDIS_URL`.
    pub redis_url: Option<String>,
    /// `UVICORN_WORKERS` (1 when unset or unreadable).
    pub workers: u32,
    /// `WEBSOCKET_MANAGER`.
    pub websocket_manager: Option<String>,
    /// `WEBSOCKET_REDIS_URL`.
    pub websocket_redis_url: Option<String>,
    /// `REDIS_SENTINEL_HOSTS` (not supported by the pipe).
    pub sentinel_hosts: Option<String>,
    /// `REDIS_CLUSTER` (not supported by the pipe).
    pub cluster: bool,
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activation {
    /// Use Redis at this URL.
    Active {
        /// `REDIS_URL`.
        url: String,
    },
    /// No Redis; the warnings say what a multi-worker deployment lacks (none for one worker).
    Off {
        /// One line per missing piece, for the log.
        warnings: Vec<String>,
    },
}

fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

const FALLBACK: &str = "stored items are written straight to the database by each worker";

/// Applies the rules.
pub fn decide(d: &Deployment) -> Activation {
    if d.workers <= 1 {
        return Activation::Off {
            warnings: Vec::new(),
        };
    }
    let mut warnings = Vec::new();
    let url = set(&d.redis_url);
    if url.is_none() {
        warnings.push(format!(
            "Multiple UVicorn workers detected but REDIS_URL is unset; {FALLBACK}"
        ));
    }
    let manager = set(&d.websocket_manager).map(str::to_ascii_lowercase);
    if manager.as_deref() != Some("redis") {
        warnings.push(format!(
            "Multiple UVicorn workers detected but WEBSOCKET_MANAGER is not 'redis'; {FALLBACK}"
        ));
    }
    if set(&d.websocket_redis_url).is_none() {
        warnings.push(format!(
            "Multiple UVicorn workers detected but WEBSOCKET_REDIS_URL is unset; {FALLBACK}"
        ));
    }
    if set(&d.sentinel_hosts).is_some() {
        warnings.push(format!(
            "REDIS_SENTINEL_HOSTS is set but the pipe does not speak to Redis Sentinel; {FALLBACK}"
        ));
    }
    if d.cluster {
        warnings.push(format!(
            "REDIS_CLUSTER is on but the pipe does not speak to Redis Cluster; {FALLBACK}"
        ));
    }
    match url {
        Some(url) if warnings.is_empty() => Activation::Active {
            url: url.to_string(),
        },
        _ => Activation::Off { warnings },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> Deployment {
        Deployment {
            redis_url: Some("redis://127.0.0.1:6379/0".into()),
            workers: 2,
            websocket_manager: Some("Redis".into()),
            websocket_redis_url: Some("redis://127.0.0.1:6379/1".into()),
            ..Deployment::default()
        }
    }

    #[test]
    fn several_workers_with_the_whole_redis_set_up_use_redis() {
        assert_eq!(
            decide(&complete()),
            Activation::Active {
                url: "redis://127.0.0.1:6379/0".into()
            }
        );
    }

    #[test]
    fn one_worker_never_uses_redis_and_says_nothing() {
        let d = Deployment {
            workers: 1,
            ..complete()
        };
        assert_eq!(decide(&d), Activation::Off { warnings: vec![] });
    }

    #[test]
    fn each_missing_piece_of_a_multi_worker_set_up_is_named() {
        let d = Deployment {
            redis_url: Some("  ".into()),
            websocket_manager: Some("local".into()),
            websocket_redis_url: None,
            ..complete()
        };
        let Activation::Off { warnings } = decide(&d) else {
            panic!("must be off");
        };
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].contains("REDIS_URL is unset"));
        assert!(warnings[1].contains("WEBSOCKET_MANAGER is not 'redis'"));
        assert!(warnings[2].contains("WEBSOCKET_REDIS_URL is unset"));
    }

    #[test]
    fn sentinel_and_cluster_are_refused_with_a_reason() {
        let d = Deployment {
            sentinel_hosts: Some("s1:26379".into()),
            cluster: true,
            ..complete()
        };
        let Activation::Off { warnings } = decide(&d) else {
            panic!("must be off");
        };
        assert!(warnings.iter().any(|w| w.contains("Sentinel")));
        assert!(warnings.iter().any(|w| w.contains("Cluster")));
    }
}
