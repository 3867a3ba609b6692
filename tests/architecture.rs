//! The module boundaries of DESIGN §2, checked on the source: imports point one way
//! (`experiment → game → protocol → agents / llm → record / engine`; `analysis` reads
//! only `record` and `engine`), the library never uses `anyhow` or aborts the process
//! outside the test kit, and every test module is at the end of its file (so the check
//! below can leave test code out: tests may use the test kit).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// What each top-level module may import from the crate.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("engine", &[][..]),
        ("record", &["engine"][..]),
        ("agents", &["engine", "record"][..]),
        ("llm", &["agents", "engine", "record"][..]),
        ("protocol", &["agents", "engine", "record"][..]),
        ("game", &["protocol", "agents", "engine", "record"][..]),
        (
            "experiment",
            &["game", "protocol", "agents", "llm", "engine", "record"][..],
        ),
        ("analysis", &["record", "engine"][..]),
        ("testkit", &["llm", "agents", "engine", "record"][..]),
    ])
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The non-test part of a source file: test-only files are empty, and a file's
/// `#[cfg(test)] mod tests` block is cut off (it is last by convention).
fn production_code(path: &Path, text: &str) -> String {
    let name = path.file_name().unwrap().to_string_lossy();
    if name == "tests.rs" || name == "testutil.rs" {
        return String::new();
    }
    match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => text[..i].to_string(),
        None => text.to_string(),
    }
}

/// Crate modules a source text refers to: `crate::x` and `crate::{x, y::z}`.
fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

#[test]
fn imports_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed = allowed();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut back_edges = Vec::new();
    let mut seen_modules = BTreeSet::new();
    for path in files {
        let rel = path.strip_prefix(&src).unwrap();
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        // The crate root and the binary (which uses `fishbanks::`) are not layers.
        if matches!(module.as_str(), "lib" | "main" | "cli") {
            continue;
        }
        let Some(may) = allowed.get(module.as_str()) else {
            panic!(
                "module `{module}` ({}) has no place in the layering",
                rel.display()
            );
        };
        seen_modules.insert(module.clone());
        let text = fs::read_to_string(&path).unwrap();
        for target in referenced(&production_code(&path, &text)) {
            if target != module && !may.contains(&target.as_str()) {
                back_edges.push(format!("{} → {target}", rel.display()));
            }
        }
    }
    assert!(
        back_edges.is_empty(),
        "imports against the layering:\n{}",
        back_edges.join("\n")
    );
    assert!(seen_modules.len() >= 8, "scanned {seen_modules:?}");
}

#[test]
fn the_library_is_a_library() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if rel == "main.rs" || rel.starts_with("cli") {
            continue;
        }
        let text = production_code(&path, &fs::read_to_string(&path).unwrap());
        assert!(
            !text.contains("anyhow"),
            "{rel} uses anyhow (typed errors only in the library)"
        );
        assert!(
            !text.contains("clap"),
            "{rel} uses clap (the CLI lives in the binary)"
        );
        if !rel.starts_with("testkit") {
            assert!(!text.contains("process::abort"), "{rel} aborts the process");
        }
    }
}

#[test]
fn test_modules_come_last() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        let marker = "#[cfg(test)]\nmod tests {";
        let Some(i) = text.find(marker) else { continue };
        // Items of a file start at column 0, the test module's are indented: after the
        // marker, only the module's closing brace may start a line.
        let top_level: Vec<&str> = text[i + marker.len()..]
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with([' ', '\t']))
            .collect();
        assert_eq!(
            top_level,
            vec!["}"],
            "{}: the test module must be the file's last item",
            path.display()
        );
    }
}
