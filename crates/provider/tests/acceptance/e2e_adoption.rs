//! Never take another team's record, never orphan our own: a create whose
//! answer is ambiguous adopts only a record that carries this create's
//! marker.

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
fn another_teams_record_is_never_adopted_after_a_transient_fault() {
    let Some(tf) = Tf::new() else { return };
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
    // One 503 before SEI sees the create: the provider looks the name up.
    tf.sandbox
        .fault(json!({"method": "POST", "path": "/sei/api/v1/integrations", "status": 503, "count": 1}));
    tf.config(SATELLITE);
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
        tf.state()["resources"].as_array().map_or(0, Vec::len),
        0,
        "nothing adopted"
    );
    let (status, still) = tf.sandbox.integration(&foreign_id);
    assert_eq!(status, 200);
    assert_eq!(still["metadata"]["owner"], "another team");
    assert_eq!(records_named(&tf, "adopt-0").len(), 1);
}

#[test]
fn our_own_create_is_adopted_when_sei_processed_it_but_answered_500() {
    let Some(tf) = Tf::new() else { return };
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

#[test]
fn a_record_orphaned_by_a_crash_is_adopted_by_the_next_apply() {
    let Some(tf) = Tf::new() else { return };
    // The answer to the create never comes (held past the client timeout,
    // with no retry left), as when the provider or terraform dies mid-apply:
    // the record exists in SEI and not in state.
    tf.sandbox.fault(
        json!({"method": "POST", "path": "/sei/api/v1/integrations", "status": 503,
                            "count": 1, "when": "after", "delay_ms": 3000}),
    );
    tf.sandbox
        .fault(json!({"method": "POST", "path": "/sei/api/v1/integrations/list", "status": 503, "count": 50}));
    tf.config(&format!(
        "provider \"sei\" {{\n  request_timeout = \"1s\"\n  max_retries = 0\n}}\n{SATELLITE}"
    ));
    let out = tf.run(&["apply", "-auto-approve", "-json", "-input=false"]);
    assert_eq!(out.code, 1, "{}", out.all());
    tf.sandbox.send("DELETE", "/_sandbox/faults", None);
    assert_eq!(records_named(&tf, "adopt-0").len(), 1, "the orphan");
    assert_eq!(tf.state()["resources"].as_array().map_or(0, Vec::len), 0);

    // The re-apply meets SEI's duplicate-name 500, finds its own marker on
    // the orphan and adopts it: no manual import.
    tf.apply();
    let records = records_named(&tf, "adopt-0");
    assert_eq!(records.len(), 1);
    assert_eq!(tf.attrs("sei_bitbucket_integration.x")["id"], records[0]["id"]);
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
fn terraform_killed_mid_apply_takes_the_provider_with_it_and_the_next_apply_converges() {
    let Some(tf) = Tf::new() else { return };
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
    tf.apply();
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
