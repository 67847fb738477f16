//! Never take another team's record: a create whose answer is ambiguous
//! adopts only a record that carries this very create call's marker, and a
//! record left by a killed apply is named with its import command.

use crate::common::*;
use serde_json::json;

const SATELLITE: &str = r#"
resource "sei_bitbucket_integration" "x" {
  name      = "adopt-0"
  satellite = true
  tags      = ["7"]
}
"#;

fn records_named(tf: &Tf, name: &str) -> Vec<serde_json::Value> {
    tf.sandbox
        .all_integrations()
        .into_iter()
        .filter(|r| r["name"] == name)
        .collect()
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn another_teams_record_is_never_adopted_after_a_transient_fault() {
    let tf = Tf::new();
    let (status, foreign) = tf.sandbox.send(
        "POST",
        "/sei/api/v1/integrations",
        Some(
            json!({"name": "adopt-0", "application": "bitbucket", "url": "https://bitbucket.org",
                    "satellite": true, "tags": ["7"], "metadata": {"owner": "another team"}}),
        ),
    );
    assert_eq!(status, 200);
    let foreign_id = foreign["id"].as_str().unwrap().to_string();
    tf.sandbox.reset_counters();
    // The name checks of the plan and of the apply's own plan cannot list
    // (a 503 each, no retries), so the create goes out; one 503 before SEI
    // sees it: the provider looks the name up and finds a record this call
    // did not make.
    tf.sandbox
        .fault(json!({"method": "POST", "path": "/sei/api/v1/integrations/list", "status": 503, "count": 2}));
    tf.sandbox
        .fault(json!({"method": "POST", "path": "/sei/api/v1/integrations", "status": 503, "count": 1}));
    tf.config(&format!("provider \"sei\" {{\n  max_retries = 0\n}}\n{SATELLITE}"));
    let out = tf.run(&["apply", "-auto-approve", "-json", "-input=false"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        diag_text(&errors[0]).contains(&format!("with id {foreign_id}")),
        "{errors:?}"
    );
    assert!(diag_text(&errors[0]).contains("import {"), "{errors:?}");
    assert_eq!(
        tf.state()["resources"][0]["instances"].as_array().map_or(0, Vec::len),
        0,
        "nothing adopted: {}",
        tf.state_text()
    );
    assert_eq!(
        tf.sandbox.route_calls("POST /sei/api/v1/integrations"),
        1,
        "the create went out"
    );
    let (status, still) = tf.sandbox.integration(&foreign_id);
    assert_eq!(status, 200);
    assert_eq!(still["metadata"]["owner"], "another team");
    assert_eq!(records_named(&tf, "adopt-0").len(), 1);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn our_own_create_is_adopted_when_sei_processed_it_but_answered_500() {
    let tf = Tf::new();
    // SEI creates the record, then the answer is a 500.
    tf.sandbox.fault(
        json!({"method": "POST", "path": "/sei/api/v1/integrations", "status": 500,
                            "count": 1, "when": "after"}),
    );
    tf.config(SATELLITE);
    tf.apply();
    let records = records_named(&tf, "adopt-0");
    assert_eq!(records.len(), 1, "{records:?}");
    let id = records[0]["id"].as_str().unwrap();
    assert_eq!(tf.attrs("sei_bitbucket_integration.x")["id"], id);
    assert_eq!(
        tf.sandbox.route_calls("POST /sei/api/v1/integrations"),
        1,
        "never re-sent"
    );
    tf.assert_empty_plan();
}

/// The processes whose parent is `pid`, from /proc.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| s.rsplit(')').next().map(str::to_string))
                .and_then(|rest| rest.split_whitespace().nth(1).map(str::to_string))
                .is_some_and(|ppid| ppid == pid.to_string())
        })
        .collect()
}

/// Running: present in /proc and not a zombie waiting to be reaped.
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next().map(str::to_string))
        })
        .is_some_and(|state| state != "Z" && state != "X")
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn terraform_killed_mid_apply_takes_the_provider_with_it_and_the_next_apply_converges() {
    let tf = Tf::new();
    tf.config(
        r#"
resource "sei_bitbucket_integration" "x" {
  count     = 3
  name      = "bb-killed-${count.index}"
  satellite = true
}
"#,
    );
    // Every SEI call takes 3 s, so the apply is mid-create when killed.
    tf.sandbox
        .send("PUT", "/_sandbox/latency", Some(json!({"sei_ms": 3000})));
    let mut terraform = tf.spawn(&["apply", "-auto-approve", "-input=false"]);
    let mut providers = Vec::new();
    for _ in 0..200 {
        if tf.sandbox.route_calls("POST /sei/api/v1/integrations") > 0 {
            providers = children_of(terraform.id())
                .into_iter()
                .filter(|p| {
                    std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.starts_with("terraform-prov"))
                })
                .collect();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!providers.is_empty(), "no provider mid-create");
    terraform.kill().unwrap();
    terraform.wait().unwrap();
    // The provider notices its parent is gone and exits (not after 90 s).
    let mut alive = providers.clone();
    for _ in 0..100 {
        alive.retain(|p| running(*p));
        if alive.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(alive.is_empty(), "providers {alive:?} outlived terraform");

    tf.sandbox.send("PUT", "/_sandbox/latency", Some(json!({})));
    // Let a create the sandbox was still holding finish.
    std::thread::sleep(std::time::Duration::from_millis(3500));
    // A record the killed apply made but never wrote to state is nobody's
    // until imported: the re-apply names it, with its id, and adopts nothing.
    let out = tf.run(&["apply", "-auto-approve", "-json", "-input=false"]);
    let in_state = tf.state()["resources"][0]["instances"].as_array().map_or(0, Vec::len);
    let orphans: Vec<(u64, String)> = tf
        .sandbox
        .all_integrations()
        .into_iter()
        .filter_map(|r| {
            let index = r["name"].as_str()?.strip_prefix("bb-killed-")?.parse().ok()?;
            let id = r["id"].as_str()?.to_string();
            (tf.attrs_of("sei_bitbucket_integration.x", index)["id"] != id.as_str()).then_some((index, id))
        })
        .collect();
    if orphans.is_empty() {
        assert_eq!(out.code, 0, "{}", out.all());
    } else {
        assert_eq!(out.code, 1, "{}", out.all());
        let errors = out.errors();
        assert_eq!(errors.len(), orphans.len(), "{errors:?}");
        for (index, id) in &orphans {
            assert!(
                errors
                    .iter()
                    .any(|e| diag_text(e).contains(&format!("terraform import <this resource's address> {id}"))),
                "x[{index}]: {errors:?}"
            );
            tf.ok(&[
                "import",
                "-no-color",
                "-input=false",
                &format!("sei_bitbucket_integration.x[{index}]"),
                id,
            ]);
        }
        assert!(in_state < 3);
        tf.apply();
    }
    let names: Vec<String> = tf
        .sandbox
        .all_integrations()
        .into_iter()
        .filter_map(|r| r["name"].as_str().map(str::to_string))
        .filter(|n| n.starts_with("bb-killed-"))
        .collect();
    assert_eq!(names.len(), 3, "one record each, no duplicate: {names:?}");
    assert_eq!(
        tf.state()["resources"][0]["instances"].as_array().map_or(0, Vec::len),
        3
    );
    tf.assert_empty_plan();
}
