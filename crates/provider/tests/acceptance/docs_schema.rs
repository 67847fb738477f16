//! The docs agree with the schema: every attribute is documented with its
//! kind (required, optional, read-only) and its sensitive and write-only
//! marks, and no documented attribute is missing from the schema.

use std::collections::BTreeSet;

use crate::common::*;
use serde_json::Value;

/// (container, name, kind, computed-when-optional, sensitive, write_only)
type Entry = (String, String, String, bool, bool, bool);

fn schema_json() -> Value {
    let tf = Tf::new();
    tf.config("");
    let out = tf.ok(&["providers", "schema", "-json"]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    v["provider_schemas"]["registry.terraform.io/sei-oss/sei"].clone()
}

fn expected(block: &Value, container: &str, out: &mut BTreeSet<Entry>) {
    for (name, a) in block["attributes"].as_object().into_iter().flatten() {
        let kind = if a["required"] == true {
            "Required"
        } else if a["optional"] == true {
            "Optional"
        } else {
            "Read-Only"
        };
        let optional_computed = a["optional"] == true && a["computed"] == true;
        out.insert((
            container.into(),
            name.clone(),
            kind.into(),
            optional_computed,
            a["sensitive"] == true,
            a["write_only"] == true,
        ));
        let t = &a["type"];
        if t[0] == "list" || t[0] == "set" {
            if let Some(obj) = t[1].as_array().filter(|o| o[0] == "object") {
                for inner in obj[1].as_object().unwrap().keys() {
                    out.insert((name.clone(), inner.clone(), "Read-Only".into(), false, false, false));
                }
            }
        }
    }
    for (name, b) in block["block_types"].as_object().into_iter().flatten() {
        let kind = if b["min_items"].as_u64().unwrap_or(0) > 0 {
            "Required"
        } else {
            "Optional"
        };
        out.insert((container.into(), name.clone(), kind.into(), false, false, false));
        expected(&b["block"], name, out);
    }
}

fn documented(page: &str) -> BTreeSet<Entry> {
    let text = std::fs::read_to_string(repo_root().join(page)).unwrap_or_else(|_| panic!("{page} is missing"));
    let mut out = BTreeSet::new();
    let mut in_schema = false;
    let (mut container, mut kind) = (String::new(), String::new());
    for line in text.lines() {
        if line == "## Schema" {
            in_schema = true;
            continue;
        }
        if !in_schema {
            continue;
        }
        if line.starts_with("## ") {
            break;
        }
        if let Some(rest) = line.strip_prefix("### Nested Schema for `") {
            container = rest.trim_end_matches('`').to_string();
            kind.clear();
        } else if let Some(k) = line.strip_prefix("### ") {
            kind = k.to_string();
        } else if let Some(k) = line
            .strip_suffix(':')
            .filter(|k| ["Required", "Optional", "Read-Only"].contains(k))
        {
            kind = k.to_string();
        } else if let Some(rest) = line.strip_prefix("- `") {
            let (name, rest) = rest.split_once('`').unwrap();
            let marks = rest
                .trim_start()
                .strip_prefix('(')
                .and_then(|r| r.split_once(')'))
                .map(|(m, _)| m)
                .unwrap_or("");
            assert!(
                !kind.is_empty(),
                "{page}: `{name}` is outside a Required/Optional/Read-Only section"
            );
            let marks: Vec<&str> = marks.split(", ").collect();
            out.insert((
                container.clone(),
                name.to_string(),
                kind.clone(),
                marks.contains(&"Computed"),
                marks.contains(&"Sensitive"),
                marks.iter().any(|m| m.starts_with("[Write-only]")),
            ));
        }
    }
    assert!(in_schema, "{page} has no ## Schema section");
    out
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn every_page_matches_the_schema() {
    let schema = schema_json();
    let mut pages = vec![("docs/index.md".to_string(), schema["provider"]["block"].clone())];
    for (key, dir) in [
        ("resource_schemas", "resources"),
        ("data_source_schemas", "data-sources"),
        ("ephemeral_resource_schemas", "ephemeral-resources"),
    ] {
        for (name, s) in schema[key].as_object().unwrap() {
            pages.push((
                format!("docs/{dir}/{}.md", name.trim_start_matches("sei_")),
                s["block"].clone(),
            ));
        }
    }
    for (page, _) in &pages {
        assert!(
            repo_root().join(page).is_file(),
            "no docs page {page}: run scripts/gen-docs.py (a type without a template of its own gets templates/default/)"
        );
    }
    for (page, block) in pages {
        let mut want = BTreeSet::new();
        expected(&block, "", &mut want);
        let have = documented(&page);
        let missing: Vec<_> = want.difference(&have).collect();
        let extra: Vec<_> = have.difference(&want).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{page} disagrees with the schema.\n  undocumented or documented differently: {missing:?}\n  documented but not in the schema (as shown): {extra:?}\n  run scripts/gen-docs.py"
        );
    }
}

/// tfplugindocs' marker for a nested block: `Block List, Min: 1, Max: 1`.
fn block_marker(b: &Value) -> String {
    let nesting = b["nesting_mode"].as_str().unwrap_or("list");
    let mut marker = format!("Block {}{}", nesting[..1].to_uppercase(), &nesting[1..]);
    if let Some(n) = b["min_items"].as_u64().filter(|n| *n > 0) {
        marker.push_str(&format!(", Min: {n}"));
    }
    if let Some(n) = b["max_items"].as_u64().filter(|n| *n > 0) {
        marker.push_str(&format!(", Max: {n}"));
    }
    marker
}

fn has_write_only(block: &Value) -> bool {
    block["attributes"]
        .as_object()
        .into_iter()
        .flatten()
        .any(|(_, a)| a["write_only"] == true)
        || block["block_types"]
            .as_object()
            .into_iter()
            .flatten()
            .any(|(_, b)| has_write_only(&b["block"]))
}

/// One scheme for every page, by what it is about rather than by product:
/// everything a Data Center user needs is under "Integrations", beside
/// Cloud's (docs/design.md).
const SUBCATEGORIES: [&str; 2] = ["Integrations", "Credentials"];

/// Terraform 1.11 cannot print list resource schemas, so their pages are
/// written by hand: one per list resource of the registry, in the same
/// scheme, documenting every attribute of its configuration.
#[test]
fn every_list_resource_has_a_page() {
    use tfplugin::framework::Provider as _;
    let provider = terraform_provider_sei::provider::SeiProvider::new();
    let lists = provider.list_resources();
    assert!(!lists.is_empty());
    for l in lists {
        let name = l.type_name();
        let page = format!("docs/list-resources/{}.md", name.trim_start_matches("sei_"));
        let text = std::fs::read_to_string(repo_root().join(&page)).unwrap_or_else(|_| panic!("no page {page}"));
        assert!(text.contains(&format!("# {name} (List Resource)")), "{page}");
        assert!(text.contains("subcategory: \"Integrations\""), "{page}");
        for a in &l.schema().block.attributes {
            assert!(
                text.contains(&format!("- `{}` (", a.name)),
                "{page}: `{}` is not documented",
                a.name
            );
        }
    }
}

/// The registry's page shape, as tfplugindocs writes it: a subcategory,
/// Example Usage before Schema, nested blocks with their markers, a
/// write-only NOTE where there are write-only arguments, and an Import
/// section with an `import {}` block where import is supported.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn every_page_has_the_registry_shape() {
    let schema = schema_json();
    let importable = ["sei_bitbucket_integration", "sei_bitbucket_server_integration"];
    for (key, dir) in [
        ("resource_schemas", "resources"),
        ("data_source_schemas", "data-sources"),
        ("ephemeral_resource_schemas", "ephemeral-resources"),
    ] {
        for (name, s) in schema[key].as_object().unwrap() {
            let page = format!("docs/{dir}/{}.md", name.trim_start_matches("sei_"));
            let text = std::fs::read_to_string(repo_root().join(&page)).unwrap();
            let sub = text
                .lines()
                .find_map(|l| l.strip_prefix("subcategory: "))
                .unwrap_or_else(|| panic!("{page}: no subcategory"));
            assert!(
                SUBCATEGORIES.contains(&sub.trim_matches('"')),
                "{page}: subcategory {sub} is not one of {SUBCATEGORIES:?}"
            );
            let example = text
                .find("## Example Usage")
                .unwrap_or_else(|| panic!("{page}: no Example Usage"));
            let schema_at = text.find("## Schema").unwrap();
            assert!(example < schema_at, "{page}: Example Usage must come before Schema");
            for (block, b) in s["block"]["block_types"].as_object().into_iter().flatten() {
                let line = format!("- `{block}` ({})", block_marker(b));
                assert!(text.contains(&line), "{page}: no {line:?}");
            }
            if has_write_only(&s["block"]) {
                assert!(
                    text.contains("~> **NOTE:**") && text.contains("Terraform 1.11"),
                    "{page}: write-only arguments without the NOTE"
                );
            }
            if key == "resource_schemas" && importable.contains(&name.as_str()) {
                let import = text.find("## Import").unwrap_or_else(|| panic!("{page}: no Import"));
                assert!(import > schema_at, "{page}: Import comes after Schema");
                assert!(text[import..].contains("import {"), "{page}: no import block");
                assert!(text[import..].contains("identity = { id"), "{page}: no identity import");
                assert!(text[import..].contains("terraform import "), "{page}: no CLI form");
            }
        }
    }
}
