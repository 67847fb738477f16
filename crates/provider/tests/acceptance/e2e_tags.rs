//! Tags by name: the `sei_tags` data source over SEI's tags API, and tag
//! ids SEI does not have caught at plan on `tags`.

use crate::common::*;

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn tags_are_named_by_the_data_source_and_unknown_ids_fail_the_plan_on_tags() {
    let tf = Tf::new();
    tf.config(
        r#"
data "sei_tags" "team" {
  names = ["Platform", "payments"]
}

resource "sei_bitbucket_integration" "sat" {
  name      = "bb-tagged"
  satellite = true
  tags      = [data.sei_tags.team.ids["platform"]]
}

output "ids" {
  value = data.sei_tags.team.ids
}
"#,
    );
    tf.apply();
    let ids: serde_json::Value = serde_json::from_str(&tf.ok(&["output", "-json", "ids"]).stdout).unwrap();
    assert_eq!(ids, serde_json::json!({"payments": "7", "platform": "17"}));
    let id = tf.attrs("sei_bitbucket_integration.sat")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(tf.sandbox.integration(&id).1["tags"], serde_json::json!(["17"]));
    tf.assert_empty_plan();

    // An id SEI does not have: the plan fails on the `tags` line, and
    // nothing is sent.
    tf.config(
        r#"
resource "sei_bitbucket_integration" "sat" {
  name      = "bb-tagged"
  satellite = true
  tags      = ["17", "4242"]
}
"#,
    );
    tf.sandbox.reset_counters();
    let out = tf.run(&["plan", "-json", "-input=false"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["summary"], "Unknown SEI tag");
    assert!(diag_text(&errors[0]).contains("\"4242\""), "{}", diag_text(&errors[0]));
    assert_eq!(diag_line(&errors[0]), line_of(&tf, "tags      = [\"17\", \"4242\"]"));
    assert_eq!(tf.sandbox.calls("PUT /sei/"), 0);

    // A name SEI does not have fails the data source on `names`.
    tf.config(
        r#"
data "sei_tags" "x" {
  names = ["platform", "no-such-team"]
}
"#,
    );
    let out = tf.run(&["plan", "-json", "-input=false"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors[0]["summary"], "Unknown SEI tag name", "{errors:?}");
    assert!(diag_text(&errors[0]).contains("\"no-such-team\""));
    assert_eq!(
        diag_line(&errors[0]),
        line_of(&tf, "names = [\"platform\", \"no-such-team\"]")
    );
}
