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

/// Runs `cmd` with only the system's directories on PATH: no cargo, as on
/// the machine of someone who downloaded the release.
fn without_cargo(cmd: &mut std::process::Command) -> &mut std::process::Command {
    let terraform_dir = std::path::Path::new(&terraform_binary())
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(|d| d.display().to_string()))
        .unwrap_or_else(|| "/usr/local/bin".into());
    cmd.env_clear()
        .env("HOME", std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()))
        .env("PATH", format!("{terraform_dir}:/usr/local/bin:/usr/bin:/bin"))
}

/// The release path end to end: scripts/package.sh zips the provider and
/// sei-sandbox beside it (one SHA256SUMS for both); `quickstart.sh --keep`
/// runs on the unzipped binaries with no cargo on PATH and leaves a
/// sandbox; its printed `export` lines, pasted into a new shell, make
/// `terraform apply` in examples/quickstart work; its printed stop command
/// stops the sandbox.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn the_quickstart_runs_on_the_release_zips_and_keeps_a_playground() {
    let tf = Tf::new();
    let dist = tf.dir.path().join("dist");
    let out = std::process::Command::new("bash")
        .arg(repo_root().join("scripts/package.sh"))
        .arg("--sandbox")
        .arg(sandbox_binary())
        .arg(provider_binary())
        .args(["0.1.0"])
        .arg(&dist)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let zips: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(zips.len(), 2, "{zips:?}");
    assert!(zips[1].contains("/sei-sandbox_0.1.0_"), "{zips:?}");
    let sums = std::fs::read_to_string(dist.join("terraform-provider-sei_0.1.0_SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 3, "both zips and the manifest: {sums}");
    assert!(sums.contains("  sei-sandbox_0.1.0_"), "{sums}");

    let unzipped = tf.dir.path().join("unzipped");
    for zip in &zips {
        let x = std::process::Command::new("python3")
            .args(["-m", "zipfile", "-e", zip])
            .arg(&unzipped)
            .status()
            .unwrap();
        assert!(x.success());
    }
    let provider = unzipped.join("terraform-provider-sei_v0.1.0");
    let sandbox = unzipped.join("sei-sandbox");
    assert!(unzipped.join("seed.json").exists(), "the sandbox zip carries its seed");
    for bin in [&provider, &sandbox] {
        use std::os::unix::fs::PermissionsExt;
        // python's zipfile does not restore modes; unzip(1) would.
        std::fs::set_permissions(bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    let quickstart = without_cargo(&mut std::process::Command::new("bash"))
        .arg(repo_root().join("scripts/quickstart.sh"))
        .arg("--keep")
        .env("SEI_PROVIDER_BIN", &provider)
        .env("SEI_SANDBOX_BIN", &sandbox)
        .env("TMPDIR", tf.dir.path())
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&quickstart.stdout).to_string();
    assert!(
        quickstart.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&quickstart.stderr)
    );
    assert!(printed.contains("Using prebuilt binaries"), "{printed}");
    assert!(printed.contains("terraform plan returned 2"), "{printed}");
    let exports: Vec<&str> = printed.lines().filter(|l| l.starts_with("export ")).collect();
    assert!(exports.len() >= 5, "{printed}");
    let stop = printed
        .lines()
        .skip_while(|l| !l.starts_with("Stop the sandbox"))
        .nth(1)
        .unwrap_or_else(|| panic!("no stop command: {printed}"))
        .trim()
        .to_string();
    let endpoint = exports
        .iter()
        .find_map(|l| l.split("SEI_ENDPOINT=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();

    // A new shell: the pasted lines, then terraform apply in (a copy of)
    // examples/quickstart.
    let work = tf.other_work("playground");
    std::fs::copy(repo_root().join("examples/quickstart/main.tf"), work.join("main.tf")).unwrap();
    let script = format!(
        "set -e\n{}\ncd {}\nterraform apply -auto-approve -input=false -no-color\nterraform destroy -auto-approve -input=false -no-color\n",
        exports.join("\n"),
        work.display()
    );
    let shell = without_cargo(&mut std::process::Command::new("bash"))
        .args(["-c", &script])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&shell.stdout).to_string() + &String::from_utf8_lossy(&shell.stderr);
    assert!(shell.status.success(), "{text}");
    assert!(text.contains("Apply complete! Resources: 2 added"), "{text}");
    assert!(text.contains("Destroy complete! Resources: 2 destroyed"), "{text}");

    let stopped = without_cargo(&mut std::process::Command::new("bash"))
        .arg(&stop)
        .output()
        .unwrap();
    assert!(stopped.status.success(), "{}", String::from_utf8_lossy(&stopped.stderr));
    let mut gone = false;
    for _ in 0..100 {
        if reqwest::blocking::get(format!("{endpoint}/v1/integrations/1")).is_err() {
            gone = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(gone, "the sandbox at {endpoint} still answers after {stop}");
}
