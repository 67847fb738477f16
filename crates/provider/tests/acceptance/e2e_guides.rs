//! The guides' recipes, run as written: the configuration and the commands
//! are taken from the guide's own code blocks, so the page cannot drift
//! from what works.

use crate::common::*;
use serde_json::json;

/// The code blocks of `guide` in the given language, in order.
fn code_blocks(guide: &str, lang: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join(guide)).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim() == format!("```{lang}") => current = Some(String::new()),
            Some(_) if line.trim() == "```" => blocks.push(current.take().unwrap()),
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// docs/guides/bulk-import-terraform-1-11.md over 50 records made in SEI
/// (half satellites, half with a key), beside records its filter leaves
/// alone: one apply imports all 50, and the plan after it is empty.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn the_bulk_import_guide_imports_50_integrations_in_one_apply() {
    let guide = "docs/guides/bulk-import-terraform-1-11.md";
    let mut tf = Tf::new();
    for i in 0..50 {
        let mut body = json!({"name": format!("bb-team-{i:02}"), "application": "bitbucket",
            "url": "https://bitbucket.org", "description": format!("team {i}"), "tags": [],
            "metadata": {"repos": "acme/api,acme/web"}});
        if i % 2 == 0 {
            body["satellite"] = json!(true);
        } else {
            body["method"] = json!("apikey");
            body["username"] = json!(OPS.0);
            body["apikey"] = json!(OPS.1);
        }
        let (status, rec) = tf.sandbox.send("POST", "/sei/api/v1/integrations", Some(body));
        assert_eq!(status, 200, "{rec}");
    }
    for name in ["other-a", "bb-legacy"] {
        let (status, rec) = tf.sandbox.send(
            "POST",
            "/sei/api/v1/integrations",
            Some(
                json!({"name": name, "application": "bitbucket", "url": "https://bitbucket.org",
                "satellite": true, "tags": [], "metadata": {}}),
            ),
        );
        assert_eq!(status, 200, "{rec}");
    }
    let config = code_blocks(guide, "terraform");
    assert_eq!(config.len(), 1, "the guide has one configuration");
    std::fs::write(tf.work().join("main.tf"), &config[0]).unwrap();
    // The guide's environment, with the sandbox's account.
    let commands = code_blocks(guide, "sh").join("");
    assert!(commands.contains("export TF_VAR_bitbucket_username="), "{commands}");
    tf.set_env("TF_VAR_bitbucket_username", OPS.0);
    tf.set_env("TF_VAR_bitbucket_token", OPS.1);

    let (code, plan) = tf.plan_code();
    assert_eq!(code, 2, "{}", plan.all());
    assert!(
        plan.stdout
            .contains("Plan: 50 to import, 0 to add, 25 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    let applied = tf.apply();
    assert!(
        applied
            .stdout
            .contains("Apply complete! Resources: 50 imported, 0 added, 25 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );
    tf.assert_empty_plan();
    let instances = tf.state()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "sei_bitbucket_integration")
        .map(|r| r["instances"].as_array().unwrap().len())
        .sum::<usize>();
    assert_eq!(instances, 50);
    assert_eq!(
        tf.sandbox.all_integrations().len(),
        52,
        "nothing created, nothing deleted"
    );
}
