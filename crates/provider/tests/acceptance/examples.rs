//! Every example is formatted and valid for the built provider.

use crate::common::*;

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
    // Examples call modules as `../modules/…`: the work directory's sibling.
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
