//! Keeps every valve's status honest against the code: a `Live` valve must be read
//! somewhere outside the declarations and the tests, and a `Planned` or `Compat` one
//! nowhere. When a feature starts reading a planned valve, this fails until the valve is
//! flipped to `Live` (and its "Not active yet" notice disappears from the admin form).
//!
//! "Read" means the valve's name appears as a string literal (`"NAME"`, or `'NAME'` in
//! Python) in non-test code under `src/` (outside `valves/table.rs`) or in the Python
//! package. Typed settings will later tighten this to one settings field per valve.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::spec::ValveStatus;
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

/// For every valve, the files that read it.
fn readers() -> BTreeMap<&'static str, Vec<String>> {
    let root = root();
    let sources = reader_sources();
    VALVES
        .iter()
        .map(|v| {
            let quoted = [format!("\"{}\"", v.name), format!("'{}'", v.name)];
            let files = sources
                .iter()
                .filter(|(_, text)| quoted.iter().any(|q| text.contains(q.as_str())))
                .map(|(file, _)| file.strip_prefix(&root).unwrap().display().to_string())
                .collect();
            (v.name, files)
        })
        .collect()
}

#[test]
fn live_valves_are_read_and_inactive_ones_are_not() {
    let readers = readers();
    let mut wrong = Vec::new();
    for v in VALVES {
        let files = &readers[v.name];
        match v.status {
            ValveStatus::Live if files.is_empty() => wrong.push(format!(
                "{} is marked Live but nothing reads it: mark it planned or compat",
                v.name
            )),
            ValveStatus::Planned(_) | ValveStatus::Compat(_) if !files.is_empty() => {
                wrong.push(format!(
                    "{} is not marked Live but is read in {files:?}: mark it Live",
                    v.name
                ))
            }
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn valves_read_only_in_tests_do_not_count() {
    let readers = readers();
    // settings.rs reads it only in its tests; http/mod.rs is the real reader.
    assert_eq!(readers["HTTP_CONNECT_TIMEOUT_SECONDS"], ["src/http/mod.rs"]);
    // Read only by the Python model sync.
    assert_eq!(
        readers["UPDATE_MODEL_CAPABILITIES"],
        ["python/openrouter_pipe/model_sync.py"]
    );
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
