//! The module boundaries of `docs/DESIGN.md` §2, checked on the source: imports point one
//! way (`experiment → game → protocol → agents / llm → question → record / engine`;
//! `seat → llm`; `analysis` reads only `record` and `engine`), only `llm` calls model
//! servers and only `seat` serves pages, no two files depend on each other in a
//! cycle, the library never uses `anyhow` or aborts the process outside the test kit, and
//! every test module is at the end of its file (so the checks below can leave test code
//! out: tests may use the test kit).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// What each top-level module may import from the crate.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("engine", &[][..]),
        ("spec", &[][..]),
        ("record", &["engine"][..]),
        ("question", &["engine"][..]),
        ("agents", &["question", "engine", "record"][..]),
        ("llm", &["agents", "question", "engine", "record"][..]),
        (
            "protocol",
            &["agents", "question", "engine", "record", "spec"][..],
        ),
        (
            "game",
            &["protocol", "agents", "question", "engine", "record"][..],
        ),
        (
            "experiment",
            &[
                "game", "protocol", "agents", "llm", "question", "engine", "record", "spec",
            ][..],
        ),
        ("analysis", &["record", "engine"][..]),
        (
            "rating",
            &[
                "experiment",
                "analysis",
                "llm",
                "question",
                "record",
                "engine",
            ][..],
        ),
        ("seat", &["llm", "question", "record"][..]),
        (
            "play",
            &[
                "experiment",
                "seat",
                "analysis",
                "llm",
                "question",
                "engine",
                "record",
            ][..],
        ),
        (
            "testkit",
            &["llm", "agents", "question", "engine", "record"][..],
        ),
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

/// A source file's module path: `src/llm/mock.rs` is `["llm", "mock"]`, `src/llm/mod.rs`
/// is `["llm"]`, `src/lib.rs` is `[]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The paths a source text names, made absolute from module `here`: `crate::a::b`,
/// `super::x` and `self::x`, with `{…}` groups expanded one level.
fn paths_named(text: &str, here: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (start, base) in [("crate::", 0usize), ("super::", 1), ("self::", 2)] {
        let mut rest = text;
        while let Some(i) = rest.find(start) {
            let before = rest[..i].chars().last();
            rest = &rest[i + start.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue; // `x::super::` or a longer name
            }
            let mut prefix: Vec<String> = match base {
                0 => Vec::new(),
                1 => here[..here.len().saturating_sub(1)].to_vec(),
                _ => here.to_vec(),
            };
            let mut tail = rest;
            while let Some(t) = tail.strip_prefix("super::") {
                prefix.pop();
                tail = t;
            }
            // A path goes on while `ident::` follows.
            loop {
                if let Some(group) = tail.strip_prefix('{') {
                    let end = group.find('}').unwrap_or(group.len());
                    for item in group[..end].split(',') {
                        let mut p = prefix.clone();
                        for seg in item.trim().split("::") {
                            let seg = ident(seg.trim());
                            if seg.is_empty() {
                                break;
                            }
                            p.push(seg);
                        }
                        out.push(p);
                    }
                    break;
                }
                let name = ident(tail);
                if name.is_empty() {
                    out.push(prefix.clone());
                    break;
                }
                prefix.push(name.clone());
                tail = &tail[name.len()..];
                match tail.strip_prefix("::") {
                    Some(t) => tail = t,
                    None => {
                        out.push(prefix.clone());
                        break;
                    }
                }
            }
        }
    }
    out
}

#[test]
fn no_two_files_depend_on_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.retain(|f| !f.starts_with(src.join("cli")) && !f.ends_with("main.rs"));
    let modules: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .map(|f| (module_path(&src, f), f.clone()))
        .collect();
    // Edges between files that are not ancestor and descendant: a file may use what its
    // parent modules define (`super::`) and what its own children define; every other
    // dependency between files must point one way.
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (here, file) in &modules {
        // Comments name paths too (doc links), but a link is not a dependency.
        let text: String = production_code(file, &fs::read_to_string(file).unwrap())
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for path in paths_named(&text, here) {
            let Some(target) = (0..=path.len())
                .rev()
                .map(|k| path[..k].to_vec())
                .find(|p| modules.contains_key(p))
            else {
                continue;
            };
            let related = target.starts_with(here) || here.starts_with(&target);
            if !related {
                edges.entry(here.clone()).or_default().insert(target);
            }
        }
    }
    // Depth-first search for a cycle.
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
        cycles: &mut Vec<String>,
    ) {
        state.insert(node.clone(), 1);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next).copied().unwrap_or(0) {
                0 => visit(next, edges, state, stack, cycles),
                1 => {
                    let from = stack.iter().position(|n| n == next).unwrap_or(0);
                    let names: Vec<String> = stack[from..]
                        .iter()
                        .chain(std::iter::once(next))
                        .map(|m| m.join("/"))
                        .collect();
                    cycles.push(names.join(" -> "));
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.clone(), 2);
    }
    let mut state = BTreeMap::new();
    let mut cycles = Vec::new();
    for node in modules.keys() {
        if state.get(node).copied().unwrap_or(0) == 0 {
            visit(node, &edges, &mut state, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(
        cycles.is_empty(),
        "files that depend on each other:\n{}",
        cycles.join("\n")
    );
    let edge_count: usize = edges.values().map(BTreeSet::len).sum();
    assert!(
        edge_count > 50,
        "only {edge_count} edges found: the scan is broken"
    );
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

#[test]
fn only_llm_calls_servers_and_only_seat_serves_pages() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let text = production_code(&file, &fs::read_to_string(&file).unwrap());
        let path = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if text.contains("reqwest::") {
            assert!(
                path.starts_with("llm/"),
                "{path} calls a server with reqwest"
            );
        }
        if text.contains("axum::") {
            assert!(path.starts_with("seat/"), "{path} serves pages with axum");
        }
    }
}
