//! Which database a request's artifacts go to (policy only; opening is
//! [`super::artifact_store`]'s): `ARTIFACT_DATABASE_URL` when set (PostgreSQL URL or
//! SQLite file), else `ARTIFACT_DB_PATH` when set, else Open WebUI's own PostgreSQL
//! database when it runs on one, else the SQLite file in Open WebUI's data directory.

use crate::artifacts::postgres::{is_postgres_url, OwuiDatabase, PgTarget, TargetError};

/// Where the rows live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file of the pipe's own.
    Sqlite(String),
    /// A PostgreSQL database.
    Postgres(Box<PgTarget>),
}

/// The location for these settings; `Ok(None)` when there is none (no data directory
/// outside Open WebUI). The error never contains a password.
pub fn choose(
    valve_url: &str,
    db_path: Option<&str>,
    owui: Option<&OwuiDatabase>,
    default_path: Option<&str>,
) -> Result<Option<Location>, TargetError> {
    let valve_url = valve_url.trim();
    if !valve_url.is_empty() {
        if is_postgres_url(valve_url) {
            return PgTarget::parse(valve_url).map(|t| Some(Location::Postgres(Box::new(t))));
        }
        return sqlite_path(valve_url).map(|p| Some(Location::Sqlite(p)));
    }
    if let Some(path) = db_path.map(str::trim).filter(|p| !p.is_empty()) {
        return Ok(Some(Location::Sqlite(path.to_string())));
    }
    if let Some(target) = owui.and_then(OwuiDatabase::postgres) {
        return target.map(|t| Some(Location::Postgres(Box::new(t))));
    }
    Ok(default_path
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Location::Sqlite(p.to_string())))
}

/// The file of a SQLAlchemy-style SQLite URL (`sqlite:///relative.db`,
/// `sqlite:////absolute.db`) or a plain path.
fn sqlite_path(value: &str) -> Result<String, TargetError> {
    let lower = value.to_ascii_lowercase();
    let path = if lower.starts_with("sqlite") && value.contains("://") {
        let rest = &value[value.find("://").map_or(0, |i| i + 3)..];
        let rest = rest.split('?').next().unwrap_or("");
        rest.strip_prefix('/').unwrap_or(rest).to_string()
    } else if value.contains("://") {
        return Err(TargetError(
            "ARTIFACT_DATABASE_URL must be a postgresql:// URL, a sqlite:/// URL or a file path"
                .into(),
        ));
    } else {
        value.to_string()
    };
    if path.trim().is_empty() || path == ":memory:" {
        return Err(TargetError("the SQLite URL names no file".into()));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::postgres::PgHost;

    fn owui_pg() -> OwuiDatabase {
        OwuiDatabase {
            url: Some("postgresql+psycopg://owui:pw@db:5432/webui".into()),
            ..Default::default()
        }
    }

    fn owui_sqlite() -> OwuiDatabase {
        OwuiDatabase {
            url: Some("sqlite:////app/backend/data/webui.db".into()),
            ..Default::default()
        }
    }

    fn pg_host(loc: Option<Location>) -> String {
        match loc {
            Some(Location::Postgres(t)) => match &t.hosts[0] {
                PgHost::Tcp(h, _) => h.clone(),
                PgHost::Socket(d, _) => d.display().to_string(),
            },
            other => panic!("not PostgreSQL: {other:?}"),
        }
    }

    #[test]
    fn sqlite_stays_the_default_for_sqlite_deployments() {
        let default = Some("/data/openrouter_pipe/artifacts.db");
        assert_eq!(
            choose("", None, Some(&owui_sqlite()), default).unwrap(),
            Some(Location::Sqlite(
                "/data/openrouter_pipe/artifacts.db".into()
            ))
        );
        assert_eq!(choose("", None, None, None).unwrap(), None);
    }

    #[test]
    fn open_webui_on_postgresql_takes_the_artifacts() {
        let loc = choose("", None, Some(&owui_pg()), Some("/data/a.db")).unwrap();
        assert_eq!(pg_host(loc), "db");
        // An explicit SQLite path keeps them in that file.
        assert_eq!(
            choose("", Some(" /srv/a.db "), Some(&owui_pg()), None).unwrap(),
            Some(Location::Sqlite("/srv/a.db".into()))
        );
    }

    #[test]
    fn the_valve_wins_and_takes_every_form() {
        let owui = Some(owui_pg());
        let loc = choose(
            "postgres://u:p@other/db",
            Some("/x.db"),
            owui.as_ref(),
            None,
        )
        .unwrap();
        assert_eq!(pg_host(loc), "other");
        for (url, want) in [
            ("sqlite:////abs/a.db", "/abs/a.db"),
            ("sqlite:///rel/a.db", "rel/a.db"),
            ("sqlite+pysqlite:////abs/b.db?timeout=5", "/abs/b.db"),
            ("/plain/c.db", "/plain/c.db"),
        ] {
            assert_eq!(
                choose(url, None, owui.as_ref(), None).unwrap(),
                Some(Location::Sqlite(want.into())),
                "{url}"
            );
        }
        for bad in [
            "sqlite://",
            "sqlite:///",
            "mysql://u:hunter2@h/d",
            "postgresql://u:hunter2@h:x/d",
        ] {
            let err = choose(bad, None, None, None).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn an_unreadable_open_webui_url_is_an_error_not_a_silent_sqlite() {
        let broken = OwuiDatabase {
            url: Some("postgresql://owui:hunter2@db:notaport/webui".into()),
            ..Default::default()
        };
        let err = choose("", None, Some(&broken), Some("/d/a.db")).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
