//! What a plan costs, counted (never timed): SEI calls per page on refresh,
//! and the plugin transports Terraform talks to the provider over.

use crate::common::*;

fn satellites(n: usize) -> String {
    format!(
        r#"
resource "sei_bitbucket_integration" "x" {{
  count     = {n}
  name      = "bb-perf-${{count.index}}"
  satellite = true
}}
"#
    )
}

fn sei_calls(tf: &Tf) -> (u64, u64, u64) {
    (
        tf.sandbox.route_calls("GET /sei/api/v1/integrations/{id}"),
        tf.sandbox.route_calls("POST /sei/api/v1/integrations/list"),
        tf.sandbox.counters()["routes"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.contains(" /sei/"))
            .map(|(_, v)| v.as_u64().unwrap())
            .sum(),
    )
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_plan_of_40_unchanged_integrations_makes_3_sei_calls_and_an_out_of_band_delete_still_shows() {
    let tf = Tf::new();
    tf.config(&satellites(40));
    tf.apply();
    tf.sandbox.reset_counters();
    tf.assert_empty_plan();
    // Two reads by id, then one snapshot page for the other 38.
    assert_eq!(sei_calls(&tf), (2, 1, 3), "{}", tf.sandbox.counters());

    // Delete one record the way the SEI UI would; exactly it is gone.
    let gone = tf.attrs_of("sei_bitbucket_integration.x", 17)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = tf
        .sandbox
        .send("DELETE", &format!("/sei/api/v1/integrations/{gone}"), None);
    assert_eq!(status, 200);
    tf.sandbox.reset_counters();
    let out = tf.run(&["plan", "-json", "-input=false", "-detailed-exitcode"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let changes: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "planned_change")
        .collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        changes[0]["change"]["resource"]["addr"],
        "sei_bitbucket_integration.x[17]"
    );
    assert_eq!(changes[0]["change"]["action"], "create");
    let warnings = out.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["summary"], "Integration deleted outside Terraform");
    assert!(
        warnings[0]["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("\"bb-perf-17\" (id {gone})")),
        "{warnings:?}"
    );
    // The missing record was confirmed by its own GET before leaving state:
    // two reads by id, then the snapshot, then the GET for x[17] (unless
    // x[17] happened to be one of the first two reads, which Terraform
    // orders as it likes).
    let (gets, lists, _) = sei_calls(&tf);
    assert_eq!(lists, 1, "{}", tf.sandbox.counters());
    assert!(gets == 2 || gets == 3, "{}", tf.sandbox.counters());
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn terraform_talks_to_the_provider_over_a_unix_socket_it_removes() {
    let mut tf = Tf::new();
    let sockets = tf.dir.path().join("sockets");
    std::fs::create_dir_all(&sockets).unwrap();
    tf.set_env("PLUGIN_UNIX_SOCKET_DIR", sockets.to_str().unwrap());
    tf.set_env("TF_LOG", "debug");
    tf.config(&satellites(1));
    let out = tf.ok(&["plan", "-no-color", "-input=false"]);
    let announced = out
        .stderr
        .lines()
        .find(|l| l.contains("plugin listening"))
        .unwrap_or_else(|| panic!("no plugin address in the log:\n{}", out.stderr));
    assert!(announced.contains("network=unix"), "{announced}");
    assert!(
        announced.contains(&format!("address={}/plugin", sockets.display())),
        "{announced}"
    );
    assert_eq!(
        std::fs::read_dir(&sockets).unwrap().count(),
        0,
        "socket files are removed"
    );
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_provider_started_with_debug_serves_terraform_through_reattach() {
    let mut tf = Tf::new();
    let mut provider = std::process::Command::new(provider_binary())
        .arg("--debug")
        .env("SEI_ENDPOINT", tf.sandbox.sei_endpoint())
        .env("SEI_API_KEY", SEI_KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(provider.stdout.take().unwrap());
    let mut reattach = None;
    for _ in 0..10 {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        if let Some(v) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(v.trim_end_matches('\'').to_string());
            break;
        }
    }
    let reattach = reattach.expect("a TF_REATTACH_PROVIDERS line");
    tf.set_env("TF_REATTACH_PROVIDERS", &reattach);
    tf.config(&satellites(1));
    let out = tf.ok(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    assert!(out.stdout.contains("1 added"), "{}", out.stdout);
    assert_eq!(
        provider.try_wait().unwrap(),
        None,
        "a reattached provider outlives the run"
    );
    provider.kill().unwrap();
    provider.wait().unwrap();
}
