//! docs/guides/troubleshooting.md has an entry for every diagnostic summary
//! the provider and its framework can emit, and no entry for one they
//! cannot: the summaries are read from the source, where diagnostics are
//! made, so a new diagnostic without an entry fails here.
//!
//! Where summaries are made: `Diagnostic::error/warning(summary, detail)`,
//! `Diagnostics::error/warning(summary, detail)` and `error_at/warning_at(
//! path, summary, detail)`, the configuration resolver's `error(setting,
//! summary, detail)`, `sei_error(ctx, summary, ..)`, and the `summary:` of
//! credential-check problems. A summary is a string literal, a `format!`
//! (its placeholders match any `<name>` in the page's heading) or a `const`
//! of the same file. Anything else (a variable passed through) was made by
//! one of these elsewhere.

// Tests: an unwrap that fails is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level arguments of the call whose `(` ends at `start`.
fn arguments(text: &str, start: usize) -> Vec<String> {
    let bytes = text.as_bytes();
    let (mut depth, mut in_string, mut current, mut args) = (0usize, false, String::new(), Vec::new());
    let mut i = start;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if in_string {
            current.push(c);
            if c == '\\' && i + 1 < bytes.len() {
                current.push(bytes[i + 1] as char);
                i += 2;
                continue;
            }
            if c == '"' {
                in_string = false;
            }
        } else {
            match c {
                '"' => {
                    in_string = true;
                    current.push(c);
                }
                '(' | '[' | '{' => {
                    depth += 1;
                    current.push(c);
                }
                ')' | ']' | '}' if depth == 0 => {
                    if !current.trim().is_empty() {
                        args.push(current.trim().to_string());
                    }
                    return args;
                }
                ')' | ']' | '}' => {
                    depth -= 1;
                    current.push(c);
                }
                ',' if depth == 0 => args.push(std::mem::take(&mut current).trim().to_string()),
                _ => current.push(c),
            }
        }
        i += 1;
    }
    args
}

/// The string literal at the start of `expr`, unescaped.
fn leading_literal(expr: &str) -> Option<String> {
    literal_and_rest(expr).map(|(lit, _)| lit)
}

/// The string literal at the start of `expr`, unescaped, and what follows it.
fn literal_and_rest(expr: &str) -> Option<(String, &str)> {
    let rest = expr.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &rest[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

/// The summary an argument expression makes, if it makes one here.
fn summary_of(expr: &str, consts: &BTreeMap<String, String>) -> Option<String> {
    let expr = expr.trim();
    if let Some(inner) = expr.strip_prefix("format!(") {
        return leading_literal(inner.trim_start());
    }
    if expr.starts_with('"') {
        // "…", "…".into(), "…".to_string()
        let (lit, tail) = literal_and_rest(expr)?;
        return (tail.is_empty() || tail.starts_with('.')).then_some(lit);
    }
    consts.get(expr).cloned()
}

/// `const NAME: &str = "…";` of one file.
fn string_consts(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (i, _) in text.match_indices("const ") {
        let rest = &text[i + 6..];
        let Some((name, after)) = rest.split_once(": &str =") else {
            continue;
        };
        if name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            if let Some(value) = leading_literal(after.trim_start()) {
                out.insert(name.to_string(), value);
            }
        }
    }
    out
}

/// Which argument of a call is the summary, given how many it has.
type SummaryIndex = fn(usize) -> usize;

/// Every summary made in the production code of the provider and the
/// framework, with the files that make it.
fn summaries() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&root().join("crates/provider/src"), &mut files);
    rust_files(&root().join("crates/tfplugin/src"), &mut files);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let full = std::fs::read_to_string(&file).unwrap();
        // Unit tests sit at the end of a file, after #[cfg(test)].
        let text = full.split("#[cfg(test)]").next().unwrap();
        let consts = string_consts(text);
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let mut add = |s: String| {
            out.entry(s).or_default().insert(name.clone());
        };
        let calls: [(&str, SummaryIndex); 7] = [
            ("Diagnostic::error(", |_| 0),
            ("Diagnostic::warning(", |_| 0),
            (".error_at(", |_| 1),
            (".warning_at(", |_| 1),
            (".error(", |n| if n == 3 { 1 } else { 0 }),
            (".warning(", |n| if n == 3 { 1 } else { 0 }),
            ("sei_error(", |_| 1),
        ];
        for (call, index) in calls {
            for (i, _) in text.match_indices(call) {
                let args = arguments(text, i + call.len());
                if let Some(s) = args.get(index(args.len())).and_then(|a| summary_of(a, &consts)) {
                    add(s);
                }
            }
        }
        for (i, _) in text.match_indices("summary: ") {
            let args = arguments(text, i + "summary: ".len());
            if let Some(s) = args.first().and_then(|a| summary_of(a, &consts)) {
                add(s);
            }
        }
    }
    out
}

/// A summary or a heading with every placeholder (`{…}` in a format
/// string, `<…>` on the page) written `<>`.
fn canonical(text: &str, open: char, close: char) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in text.chars() {
        if c == open {
            if depth == 0 {
                out.push_str("<>");
            }
            depth += 1;
        } else if c == close && depth > 0 {
            depth -= 1;
        } else if depth == 0 {
            out.push(c);
        }
    }
    out.trim().to_string()
}

fn page_headings() -> BTreeSet<String> {
    let page = std::fs::read_to_string(root().join("docs/guides/troubleshooting.md")).unwrap();
    page.lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(|h| canonical(&h.replace('`', ""), '<', '>'))
        .collect()
}

#[test]
fn every_diagnostic_summary_has_a_troubleshooting_entry_and_every_entry_a_diagnostic() {
    let found = summaries();
    assert!(
        found.len() >= 100,
        "the scan found only {} summaries: has the way diagnostics are made changed? {found:?}",
        found.len()
    );
    let headings = page_headings();
    let canonical_summaries: BTreeSet<String> = found.keys().map(|s| canonical(s, '{', '}')).collect();
    let missing: Vec<String> = found
        .iter()
        .filter(|(s, _)| !headings.contains(&canonical(s, '{', '}')))
        .map(|(s, files)| format!("{s:?} (made in {files:?})"))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/guides/troubleshooting.md has no `### ` entry for:\n{}",
        missing.join("\n")
    );
    let stale: Vec<&String> = headings.iter().filter(|h| !canonical_summaries.contains(*h)).collect();
    assert!(
        stale.is_empty(),
        "docs/guides/troubleshooting.md has entries for summaries nothing makes: {stale:?}"
    );
}

#[test]
fn placeholders_match_any_name() {
    assert_eq!(
        canonical("Repository {full} is not visible to {who}.", '{', '}'),
        canonical("Repository <repository> is not visible to <who>.", '<', '>')
    );
    assert_eq!(canonical("Unknown {kind} type", '{', '}'), "Unknown <> type");
    let consts = BTreeMap::from([("MISSING".to_string(), "Missing credentials".to_string())]);
    assert_eq!(summary_of("MISSING", &consts).as_deref(), Some("Missing credentials"));
    assert_eq!(summary_of("\"A b\".into()", &consts).as_deref(), Some("A b"));
    assert_eq!(
        summary_of("format!(\"X {y}\", y = 1)", &consts).as_deref(),
        Some("X {y}")
    );
    assert_eq!(summary_of("summary", &consts), None);
    assert_eq!(
        summary_of(r#""Deprecated: x = \"y\"""#, &consts).as_deref(),
        Some(r#"Deprecated: x = "y""#)
    );
    assert_eq!(arguments("a, f(b, c), \"d, e\")", 0), ["a", "f(b, c)", "\"d, e\""]);
}
