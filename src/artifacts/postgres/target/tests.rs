//! Every URL and variable form Open WebUI accepts, and the password kept out of every
//! rendering.

use super::*;

fn parse(url: &str) -> PgTarget {
    PgTarget::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
}

#[test]
fn every_scheme_open_webui_accepts() {
    for scheme in [
        "postgresql",
        "postgres",
        "postgresql+psycopg",
        "postgresql+psycopg2",
        "postgresql+asyncpg",
        "POSTGRESQL",
    ] {
        let t = parse(&format!("{scheme}://owui:pw@db.internal:6543/webui"));
        assert_eq!(
            t.hosts,
            [PgHost::Tcp("db.internal".into(), 6543)],
            "{scheme}"
        );
        assert_eq!((t.user.as_str(), t.dbname.as_str()), ("owui", "webui"));
        assert_eq!(t.password(), Some("pw"));
    }
    for not_pg in [
        "sqlite:///data/webui.db",
        "mysql://u@h/d",
        "/data/a.db",
        "",
        "postgresql",
    ] {
        assert!(!is_postgres_url(not_pg), "{not_pg}");
        assert!(PgTarget::parse(not_pg).is_err());
    }
}

#[test]
fn percent_encoded_and_unencoded_credentials() {
    let t = parse("postgresql://us%40er:p%40ss%3Aw%2Frd%25@h/db");
    assert_eq!(t.user, "us@er");
    assert_eq!(t.password(), Some("p@ss:w/rd%"));
    // Open WebUI's DATABASE_* recipe does not encode: a raw `@` in the password.
    let t = parse("postgresql://u:p@ss@h:5433/db");
    assert_eq!(t.password(), Some("p@ss"));
    assert_eq!(t.hosts, [PgHost::Tcp("h".into(), 5433)]);
    let t = parse("postgresql://u@h/db");
    assert_eq!(t.password(), None);
    assert!(PgTarget::parse("postgresql://u:%zz@h/db").is_err());
}

#[test]
fn defaults_when_parts_are_missing() {
    let t = parse("postgresql://");
    assert_eq!(t.hosts, [PgHost::Tcp("localhost".into(), 5432)]);
    assert_eq!(
        (t.user.as_str(), t.dbname.as_str()),
        ("postgres", "postgres")
    );
    assert_eq!(t.ssl_mode, SslMode::Prefer, "libpq's default");
    assert_eq!(t.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
    let t = parse("postgres://alice@h");
    assert_eq!(t.dbname, "alice", "the database defaults to the user name");
}

#[test]
fn query_options() {
    let t = parse(
        "postgresql+psycopg://u:pw@h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem\
         &connect_timeout=3&application_name=owui&options=-c%20search_path%3Dx&client_encoding=utf8",
    );
    assert_eq!(t.ssl_mode, SslMode::VerifyFull);
    assert_eq!(t.ssl_root_cert, Some(PathBuf::from("/etc/ca.pem")));
    assert_eq!(t.connect_timeout, Duration::from_secs(3));
    assert_eq!(t.application_name, "owui");
    assert_eq!(t.options.as_deref(), Some("-c search_path=x"));
    for (mode, want) in [
        ("disable", SslMode::Disable),
        ("allow", SslMode::Prefer),
        ("prefer", SslMode::Prefer),
        ("require", SslMode::Require),
        ("verify-ca", SslMode::VerifyCa),
        ("VERIFY-FULL", SslMode::VerifyFull),
    ] {
        assert_eq!(
            parse(&format!("postgresql://h/db?sslmode={mode}")).ssl_mode,
            want
        );
    }
    let err = PgTarget::parse("postgresql://u:hunter22@h/db?sslmode=sometimes").unwrap_err();
    assert!(err.to_string().contains("sslmode"));
    let t = parse("postgresql://h/db?user=bob&password=s3cret&dbname=other&port=7000");
    assert_eq!(
        (t.user.as_str(), t.password(), t.dbname.as_str()),
        ("bob", Some("s3cret"), "other")
    );
    assert_eq!(t.hosts, [PgHost::Tcp("h".into(), 7000)]);
}

#[test]
fn unix_sockets_ipv6_and_several_hosts() {
    let t = parse("postgresql://u@/db?host=/var/run/postgresql");
    assert_eq!(
        t.hosts,
        [PgHost::Socket("/var/run/postgresql".into(), 5432)]
    );
    let t = parse("postgresql://u@%2Ftmp%2Fpg:5444/db");
    assert_eq!(t.hosts, [PgHost::Socket("/tmp/pg".into(), 5444)]);
    let t = parse("postgresql://u@[::1]:6000/db");
    assert_eq!(t.hosts, [PgHost::Tcp("::1".into(), 6000)]);
    assert_eq!(t.redacted(), "postgresql://u@[::1]:6000/db");
    let t = parse("postgresql://u@a:1,b:2,c/db");
    assert_eq!(
        t.hosts,
        [
            PgHost::Tcp("a".into(), 1),
            PgHost::Tcp("b".into(), 2),
            PgHost::Tcp("c".into(), 5432)
        ]
    );
    for bad in [
        "postgresql://h:0/db",
        "postgresql://h:99999/db",
        "postgresql://h:x/db",
        "postgresql://[::1/db",
    ] {
        assert!(PgTarget::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_password_is_never_shown() {
    let secret = "Tr0ub4dor&3";
    let t = parse(&format!(
        "postgresql://owui:{}@db:5432/webui",
        "Tr0ub4dor%263"
    ));
    assert_eq!(t.password(), Some(secret));
    for shown in [format!("{t:?}"), t.redacted()] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains("owui:***@db:5432/webui"), "{shown}");
    }
    assert_eq!(
        t.scrub(&format!("login failed with {secret}")),
        "login failed with ***"
    );
    for bad in [
        format!("postgresql://owui:{secret}@db:bad/webui"),
        format!("postgresql://owui:{secret}@db/webui?sslmode=x"),
        format!("postgresql://owui:{secret}%@db/webui"),
    ] {
        let err = PgTarget::parse(&bad).unwrap_err().to_string();
        assert!(!err.contains(secret), "{err}");
    }
    let owui = OwuiDatabase {
        url: Some(format!("postgresql://owui:{secret}@db/webui")),
        ..Default::default()
    };
    assert!(!format!("{owui:?}").contains(secret));
}

#[test]
fn open_webui_variables_follow_its_recipe() {
    let parts = OwuiDatabase {
        url: Some("sqlite:////data/webui.db".into()),
        db_type: Some("postgresql".into()),
        user: Some("owui".into()),
        password: Some("pw".into()),
        host: Some("db".into()),
        port: Some("5433".into()),
        name: Some("webui".into()),
    };
    assert_eq!(
        parts.effective_url().as_deref(),
        Some("postgresql://owui:pw@db:5433/webui"),
        "all parts set: they win over DATABASE_URL"
    );
    let t = parts.postgres().unwrap().unwrap();
    assert_eq!(t.hosts, [PgHost::Tcp("db".into(), 5433)]);
    let no_password = OwuiDatabase {
        password: None,
        ..parts.clone()
    };
    assert_eq!(no_password.postgres().unwrap().unwrap().password(), None);
    let partial = OwuiDatabase {
        port: None,
        ..parts.clone()
    };
    assert_eq!(
        partial.effective_url().as_deref(),
        Some("sqlite:////data/webui.db")
    );
    assert!(partial.postgres().is_none(), "SQLite: not PostgreSQL");
    let url_only = OwuiDatabase {
        url: Some("postgres://u@h/d".into()),
        ..Default::default()
    };
    assert_eq!(url_only.postgres().unwrap().unwrap().dbname, "d");
    assert!(OwuiDatabase::default().postgres().is_none());
    let broken = OwuiDatabase {
        url: Some("postgresql://u@h:port/d".into()),
        ..Default::default()
    };
    assert!(broken.postgres().unwrap().is_err());
}
