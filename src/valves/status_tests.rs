//! Keeps every valve's status honest against the code: a `Live` valve must be read by
//! exactly one typed settings field, and a `Planned` or `Compat` one nowhere. When a
//! feature starts reading a planned valve, this fails until the valve is flipped to
//! `Live` (and its "Not active yet" notice disappears from the admin form).
//!
//! "Read" means the valve's name appears as a string literal (`"NAME"`, or `'NAME'` in
//! Python) in non-test code under `src/` (outside `valves/table.rs`) or in the Python
//! package. In Rust, a name may appear only in the settings module (`valves/settings/`),
//! once: everything else reads typed fields. The known exception is Python code that
//! reads a few valves by attribute (the model sync's `UPDATE_MODEL_*` and its OpenRouter
//! Search filter valves `AUTO_*_ORS_FILTER` / `AUTO_DEFAULT_OPENROUTER_SEARCH_FILTER`, the
//! client cache key); a valve read only there is live too.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::spec::{ValveSpec, ValveStatus};
use super::table::VALVES;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_with_ext(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_with_ext(&path, ext, out);
        } else if path.extension().is_some_and(|x| x == ext) {
            out.push(path);
        }
    }
}

/// Skips a block that starts at `open` (a `{`), honouring string and char literals and
/// comments, and returns the index just past its closing `}`.
fn end_of_block(src: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < src.len() {
        match src[i] {
            b'/' if src.get(i + 1) == Some(&b'/') => {
                while i < src.len() && src[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < src.len() && src[i] != b'"' {
                    i += if src[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' if src.get(i + 2) == Some(&b'\'') => i += 2,
            b'\'' if src.get(i + 1) == Some(&b'\\') => {
                while i + 1 < src.len() && src[i + 1] != b'\'' {
                    i += 1;
                }
                i += 1;
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    src.len()
}

/// The source without its `#[cfg(test)] mod … { … }` blocks, and the names of the
/// `#[cfg(test)] mod name;` files it declares.
fn strip_test_modules(source: &str) -> (String, Vec<String>) {
    const MARK: &str = "#[cfg(test)]";
    let bytes = source.as_bytes();
    let mut kept = String::new();
    let mut test_files = Vec::new();
    let mut pos = 0;
    while let Some(found) = source[pos..].find(MARK) {
        let start = pos + found;
        kept.push_str(&source[pos..start]);
        let after = start + MARK.len();
        let item = source[after..].trim_start();
        let item_at = source.len() - item.len();
        let Some(rest) = item.strip_prefix("mod ") else {
            kept.push_str(MARK);
            pos = after;
            continue;
        };
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let after_name = rest[name_len..].trim_start();
        if after_name.starts_with(';') {
            test_files.push(rest[..name_len].to_string());
            pos = source.len() - after_name.len() + 1;
        } else {
            let open = item_at + item.find('{').expect("mod block");
            pos = end_of_block(bytes, open);
        }
    }
    kept.push_str(&source[pos..]);
    (kept, test_files)
}

/// The files of `#[cfg(test)] mod name;` declared in `file`.
fn test_module_paths(file: &Path, names: &[String]) -> Vec<PathBuf> {
    let dir = file.parent().unwrap();
    let stem = file.file_stem().unwrap().to_str().unwrap();
    let base = if matches!(stem, "mod" | "lib") {
        dir.to_path_buf()
    } else {
        dir.join(stem)
    };
    names
        .iter()
        .flat_map(|n| [base.join(format!("{n}.rs")), base.join(n).join("mod.rs")])
        .collect()
}

/// Every non-test source text that may read valves: Rust under `src/` (without the
/// declaration table) and the Python package.
fn reader_sources() -> Vec<(PathBuf, String)> {
    let root = root();
    let mut rust = Vec::new();
    files_with_ext(&root.join("src"), "rs", &mut rust);
    let table = root.join("src/valves/table.rs");
    let mut sources = Vec::new();
    let mut test_only = Vec::new();
    for file in &rust {
        let (code, test_mods) = strip_test_modules(&fs::read_to_string(file).unwrap());
        test_only.extend(test_module_paths(file, &test_mods));
        sources.push((file.clone(), code));
    }
    sources.retain(|(file, _)| *file != table && !test_only.contains(file));
    let mut python = Vec::new();
    files_with_ext(&root.join("python/openrouter_pipe"), "py", &mut python);
    for file in python {
        let text = fs::read_to_string(&file).unwrap();
        sources.push((file, text));
    }
    sources
}

/// Where the typed settings live: the only Rust code that may name a valve.
const SETTINGS_MODULE: &str = "src/valves/settings/";

/// Where one valve's name appears: each file, with how often.
#[derive(Debug, Default)]
struct Readers {
    rust: Vec<(String, usize)>,
    python: Vec<String>,
}

impl Readers {
    fn rust_count(&self) -> usize {
        self.rust.iter().map(|(_, n)| n).sum()
    }

    fn is_empty(&self) -> bool {
        self.rust.is_empty() && self.python.is_empty()
    }
}

/// For every valve, the files that read it.
fn readers() -> BTreeMap<&'static str, Readers> {
    let root = root();
    let sources = reader_sources();
    VALVES
        .iter()
        .map(|v| {
            let quoted = [format!("\"{}\"", v.name), format!("'{}'", v.name)];
            let mut readers = Readers::default();
            for (file, text) in &sources {
                let count: usize = quoted
                    .iter()
                    .map(|q| text.matches(q.as_str()).count())
                    .sum();
                if count == 0 {
                    continue;
                }
                let name = file.strip_prefix(&root).unwrap().display().to_string();
                if name.ends_with(".py") {
                    readers.python.push(name);
                } else {
                    readers.rust.push((name, count));
                }
            }
            (v.name, readers)
        })
        .collect()
}

/// What is wrong with how `v` is read, if anything.
fn misread(v: &ValveSpec, readers: &Readers) -> Option<String> {
    let name = v.name;
    let outside: Vec<&str> = readers
        .rust
        .iter()
        .map(|(file, _)| file.as_str())
        .filter(|file| !file.starts_with(SETTINGS_MODULE))
        .collect();
    if !outside.is_empty() {
        return Some(format!(
            "{name} is named in {outside:?}: read it through a typed settings field in {SETTINGS_MODULE}"
        ));
    }
    match v.status {
        ValveStatus::Live if readers.is_empty() => Some(format!(
            "{name} is marked Live but nothing reads it: mark it planned or compat"
        )),
        ValveStatus::Live if readers.rust_count() > 1 => Some(format!(
            "{name} is read {} times in {:?}: exactly one settings field reads a valve",
            readers.rust_count(),
            readers.rust
        )),
        ValveStatus::Planned(_) | ValveStatus::Compat(_) if !readers.is_empty() => Some(format!(
            "{name} is not marked Live but is read in {readers:?}: mark it Live"
        )),
        _ => None,
    }
}

#[test]
fn live_valves_are_read_by_one_settings_field_and_inactive_ones_not_at_all() {
    let readers = readers();
    let wrong: Vec<String> = VALVES
        .iter()
        .filter_map(|v| misread(v, &readers[v.name]))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn valves_read_only_in_tests_do_not_count() {
    let readers = readers();
    // The settings tests name it too; the connection settings are the one real reader.
    let connect = &readers["HTTP_CONNECT_TIMEOUT_SECONDS"];
    assert_eq!(
        connect.rust,
        [("src/valves/settings/connection.rs".to_string(), 1)]
    );
    assert!(connect.python.is_empty());
    // Read only by the Python model sync.
    let capabilities = &readers["UPDATE_MODEL_CAPABILITIES"];
    assert!(capabilities.rust.is_empty());
    assert_eq!(
        capabilities.python,
        ["python/openrouter_pipe/model_sync.py"]
    );
    // The OpenRouter Search filter: installed and attached by the Python model sync.
    for name in [
        "AUTO_ATTACH_ORS_FILTER",
        "AUTO_INSTALL_ORS_FILTER",
        "AUTO_DEFAULT_OPENROUTER_SEARCH_FILTER",
    ] {
        assert!(readers[name].rust.is_empty(), "{name}");
        assert!(
            readers[name]
                .python
                .contains(&"python/openrouter_pipe/model_sync.py".to_string()),
            "{name}: {:?}",
            readers[name].python
        );
    }
}

#[test]
fn a_second_reader_or_a_reader_outside_the_settings_fails() {
    let spec = ValveSpec::find("DB_BATCH_SIZE").unwrap();
    let in_settings = ("src/valves/settings/artifacts.rs".to_string(), 1);
    let twice = Readers {
        rust: vec![
            in_settings.clone(),
            ("src/valves/settings/stream.rs".into(), 1),
        ],
        python: Vec::new(),
    };
    assert!(misread(spec, &twice).unwrap().contains("read 2 times"));
    let elsewhere = Readers {
        rust: vec![
            in_settings.clone(),
            ("src/engine/artifact_store.rs".into(), 1),
        ],
        python: Vec::new(),
    };
    assert!(misread(spec, &elsewhere)
        .unwrap()
        .contains("typed settings field"));
    let once = Readers {
        rust: vec![in_settings],
        python: Vec::new(),
    };
    assert_eq!(misread(spec, &once), None);
}

#[test]
fn test_modules_are_stripped() {
    let source = "fn a() { \"A\" }\n#[cfg(test)]\nmod tests {\n    fn b() { let _ = \"}\"; '{'; \"B\" }\n}\n\
                  fn c() { \"C\" }\n#[cfg(test)]\nmod more;\nfn d() { \"D\" }\n";
    let (kept, files) = strip_test_modules(source);
    assert!(kept.contains("\"A\"") && kept.contains("\"C\"") && kept.contains("\"D\""));
    assert!(!kept.contains("\"B\""), "{kept}");
    assert_eq!(files, ["more"]);
}

#[test]
fn every_inactive_valve_explains_itself() {
    for v in VALVES {
        match v.status {
            ValveStatus::Live => {}
            ValveStatus::Planned(until) => assert!(
                until.contains("(issue #") || until.contains("(issues #"),
                "{}: a planned valve names the issue that makes it live",
                v.name
            ),
            ValveStatus::Compat(why) => assert!(
                why.len() > 20 && !why.ends_with('.'),
                "{}: a compat valve says why it has no effect, as a clause",
                v.name
            ),
        }
    }
}
