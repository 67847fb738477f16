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
