//! Every example is formatted, valid for the built provider, and applies as
//! shipped against the sandbox.

use crate::common::*;
use serde_json::Value;

/// Examples call modules as `../modules/…`: a sibling of each work
/// directory under the test's temp dir.
fn copy_modules(tf: &Tf) {
    let modules = tf.dir.path().join("modules");
    for entry in std::fs::read_dir(repo_root().join("examples/modules")).unwrap() {
        let src = entry.unwrap().path();
        let dst = modules.join(src.file_name().unwrap());
        std::fs::create_dir_all(&dst).unwrap();
        for f in std::fs::read_dir(&src).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dst.join(f.file_name().unwrap())).unwrap();
        }
    }
}

fn example_dirs() -> Vec<std::path::PathBuf> {
    let mut dirs = Vec::new();
    let mut stack = vec![repo_root().join("examples")];
    while let Some(dir) = stack.pop() {
        let mut has_tf = false;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            dirs.push(dir);
        }
    }
    dirs.sort();
    dirs
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn examples_are_formatted_and_validate() {
    let tf = Tf::new();
    let fmt = tf.run(&[
        "fmt",
        "-check",
        "-recursive",
        "-diff",
        repo_root().join("examples").to_str().unwrap(),
    ]);
    assert_eq!(fmt.code, 0, "terraform fmt -check failed:\n{}", fmt.all());
    let dirs = example_dirs();
    assert!(dirs.len() >= 8, "{dirs:?}");
    copy_modules(&tf);
    for dir in dirs {
        let work = tf.work();
        for entry in std::fs::read_dir(&work).unwrap() {
            std::fs::remove_file(entry.unwrap().path()).ok();
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "tf") {
                std::fs::copy(&path, work.join(path.file_name().unwrap())).unwrap();
            }
        }
        // A registry example is a snippet: without its own terraform block,
        // it is validated with one that names this provider.
        let all_tf: String = std::fs::read_dir(&work)
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
            .collect();
        if !all_tf.contains("required_providers") {
            std::fs::write(
                work.join("zz_test_providers.tf"),
                "terraform {\n  required_providers {\n    sei = { source = \"sei-oss/sei\" }\n  }\n}\n",
            )
            .unwrap();
        }
        let text = std::fs::read_to_string(dir.join("main.tf")).unwrap_or_default();
        if text.contains("module \"") {
            // Local modules are installed by `get`, which fetches no providers.
            let _ = std::fs::remove_dir_all(work.join(".terraform"));
            tf.ok(&["get", "-no-color"]);
        }
        let out = tf.run(&["validate", "-no-color"]);
        assert_eq!(out.code, 0, "{} does not validate:\n{}", dir.display(), out.all());
    }
}

/// The variables the examples declare, as `scripts/quickstart.sh --keep`
/// prints them for a playground.
fn playground_vars(tf: &Tf) -> Vec<(&'static str, String)> {
    let base = tf.sandbox.sei_endpoint().trim_end_matches("/sei/api").to_string();
    vec![
        ("TF_VAR_ops_token", OPS.1.to_string()),
        ("TF_VAR_ci_token", CI.1.to_string()),
        ("TF_VAR_bbdc_url", format!("{base}/bbdc")),
        ("TF_VAR_bbdc_token", "BBDC-sandbox-svc-sei-token".to_string()),
        ("TF_VAR_consumer_secret", "sandbox-tf-consumer-secret".to_string()),
    ]
}

/// Every example directory applies as shipped against the sandbox, in the
/// environment the playground prints, and destroys cleanly: a new example
/// is run by this test as soon as it is added. Modules are applied through
/// the examples that call them, and each must be called by one.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn every_example_applies_and_destroys_against_the_sandbox() {
    let mut tf = Tf::with_seed(&examples_seed());
    for (k, v) in playground_vars(&tf) {
        tf.set_env(k, &v);
    }
    let seeded: Vec<Value> = tf.sandbox.all_integrations();
    let modules_dir = repo_root().join("examples/modules");
    let dirs: Vec<_> = example_dirs()
        .into_iter()
        .filter(|d| !d.starts_with(&modules_dir))
        .collect();
    let all_sources: String = dirs
        .iter()
        .filter_map(|d| std::fs::read_to_string(d.join("main.tf")).ok())
        .collect();
    for entry in std::fs::read_dir(&modules_dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            all_sources.contains(&format!("\"../modules/{name}\"")),
            "examples/modules/{name} is called by no example, so nothing applies it"
        );
    }
    copy_modules(&tf);
    assert!(dirs.len() >= 10, "{dirs:?}");
    for (i, dir) in dirs.iter().enumerate() {
        let name = dir
            .strip_prefix(repo_root().join("examples"))
            .unwrap()
            .display()
            .to_string();
        let work = tf.other_work(&format!("example-{i}"));
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "tf") {
                std::fs::copy(&path, work.join(path.file_name().unwrap())).unwrap();
            }
        }
        let text = std::fs::read_to_string(dir.join("main.tf")).unwrap_or_default();
        if text.contains("module \"") {
            // With dev_overrides, `terraform init` would look the provider
            // up in the registry; `get` installs the modules only.
            let got = tf.run_in(&work, &["get", "-no-color"]);
            assert_eq!(got.code, 0, "{name}: terraform get failed:\n{}", got.all());
        }
        let applied = tf.run_in(&work, &["apply", "-auto-approve", "-input=false", "-no-color"]);
        assert_eq!(applied.code, 0, "{name} does not apply as shipped:\n{}", applied.all());
        assert!(applied.stdout.contains("Apply complete!"), "{name}:\n{}", applied.all());
        let destroyed = tf.run_in(&work, &["destroy", "-auto-approve", "-input=false", "-no-color"]);
        assert_eq!(destroyed.code, 0, "{name} does not destroy:\n{}", destroyed.all());
        let left: Vec<Value> = tf.sandbox.all_integrations();
        assert_eq!(left.len(), seeded.len(), "{name} left records behind: {left:?}");
    }
}
