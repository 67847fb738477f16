//! The release packaging, installed the way users install providers: from a
//! filesystem mirror with a real `terraform init`, then a plan against the
//! sandbox. Packages the binary the tests already built.

use crate::common::*;

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn packaged_provider_installs_from_a_filesystem_mirror_and_plans() {
    let mut tf = Tf::new();
    let mirror = tf.dir.path().join("mirror/registry.terraform.io/sei-oss/sei");
    let out = std::process::Command::new("bash")
        .arg(repo_root().join("scripts/package.sh"))
        .arg(provider_binary())
        .args(["0.1.0"])
        .arg(&mirror)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let zip = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(zip.ends_with("_linux_amd64.zip") || zip.ends_with(".zip"), "{zip}");
    let sums = std::fs::read_to_string(mirror.join("terraform-provider-sei_0.1.0_SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 2, "the zip and the manifest: {sums}");
    assert!(sums.contains("_manifest.json"));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(mirror.join("terraform-provider-sei_0.1.0_manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["metadata"]["protocol_versions"][0], "6.0");
    // Only the zip belongs in the mirror directory Terraform scans.
    std::fs::remove_file(mirror.join("terraform-provider-sei_0.1.0_SHA256SUMS")).unwrap();
    std::fs::remove_file(mirror.join("terraform-provider-sei_0.1.0_manifest.json")).unwrap();

    let cli = tf.dir.path().join("mirror.tfrc");
    std::fs::write(
        &cli,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/sei-oss/*\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/sei-oss/*\"]\n  }}\n}}\n",
            tf.dir.path().join("mirror").display()
        ),
    )
    .unwrap();
    tf.set_env("TF_CLI_CONFIG_FILE", cli.to_str().unwrap());
    tf.set_env("TF_VAR_ops_token", OPS.1);
    std::fs::write(
        tf.work().join("main.tf"),
        "terraform {\n  required_providers {\n    sei = {\n      source  = \"sei-oss/sei\"\n      version = \"0.1.0\"\n    }\n  }\n}\nvariable \"ops_token\" {\n  type      = string\n  ephemeral = true\n}\nresource \"sei_bitbucket_credential\" \"ops\" {\n  auth_type   = \"api_token\"\n  username    = \"ops@acme.example\"\n  password_wo = var.ops_token\n}\n",
    )
    .unwrap();
    let init = tf.ok(&["init", "-no-color", "-input=false"]);
    assert!(init.stdout.contains("Installed sei-oss/sei v0.1.0"), "{}", init.stdout);
    let plan = tf.ok(&["plan", "-no-color", "-input=false"]);
    assert!(plan.stdout.contains("1 to add"), "{}", plan.stdout);
    assert!(
        !plan.all().contains("development overrides"),
        "installed, not overridden"
    );
    assert!(
        tf.sandbox.bitbucket_calls() >= 1,
        "the installed provider checked the credential live"
    );
}
