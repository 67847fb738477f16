#!/usr/bin/env bash
# The quickstart: build, start sei-sandbox, install the provider for
# Terraform through a throwaway CLI config, apply examples/quickstart, show
# drift made outside Terraform, then destroy everything and stop the sandbox
# — also on failure or Ctrl-C. Safe to run twice in a row.
#
# --keep: a playground. The tour's resources are still destroyed, but the
# sandbox keeps running; the script prints the `export` lines for a new
# shell (provider installed, sandbox URLs and keys, example variables) and
# the command that stops the sandbox and removes its files. Every directory
# under examples/ applies in that shell.
#
# With prebuilt binaries (a release zip's provider, a sei-sandbox binary),
# nothing is built and cargo is not needed:
#   SEI_PROVIDER_BIN=./terraform-provider-sei_v0.1.0 SEI_SANDBOX_BIN=./sei-sandbox ./scripts/quickstart.sh
set -euo pipefail

keep=""
case "${1:-}" in
  --keep) keep=yes ;;
  "") ;;
  *) echo "usage: scripts/quickstart.sh [--keep]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Prebuilt binaries may be given relative to where the script was started.
for var in SEI_PROVIDER_BIN SEI_SANDBOX_BIN; do
  if [[ -n "${!var:-}" ]]; then
    [[ -e "${!var}" ]] || { echo "quickstart: $var=${!var} does not exist" >&2; exit 1; }
    printf -v "$var" '%s' "$(realpath "${!var}")"
  fi
done
cd "$root"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

command -v terraform >/dev/null || die "terraform (>= 1.11) is not on PATH"
provider_bin=${SEI_PROVIDER_BIN:-}
sandbox_bin=${SEI_SANDBOX_BIN:-}
if [[ -z "$provider_bin" || -z "$sandbox_bin" ]]; then
  command -v cargo >/dev/null || die "cargo (Rust stable) is not on PATH (or set SEI_PROVIDER_BIN and SEI_SANDBOX_BIN to prebuilt binaries)"
fi
command -v curl >/dev/null || die "curl is not on PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/sei-quickstart.XXXXXX")
sandbox_pid=""
applied=""

cleanup() {
  local code=$?
  trap - EXIT INT TERM
  if [[ -n "$applied" ]]; then
    step "Destroying what the quickstart created"
    (cd "$work/tf" && terraform destroy -auto-approve -input=false -no-color >"$work/destroy.log" 2>&1) \
      || printf 'quickstart: destroy failed; see %s\n' "$work/destroy.log" >&2
  fi
  if [[ $code -eq 0 && -n "$keep" && -n "$sandbox_pid" ]]; then
    playground
    exit 0
  fi
  if [[ -n "$sandbox_pid" ]]; then
    step "Stopping sei-sandbox"
    kill -TERM -- "-$sandbox_pid" 2>/dev/null || kill -TERM "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  if [[ $code -eq 0 ]]; then
    rm -rf "$work"
    printf '\nQuickstart finished.\n'
  else
    printf '\nQuickstart failed (exit %s); logs are in %s\n' "$code" "$work" >&2
  fi
  exit "$code"
}

# --keep: leaves the sandbox running and says how to use and stop it.
playground() {
  cat >"$work/env.sh" <<ENV
export TF_CLI_CONFIG_FILE="$work/terraform.rc" CHECKPOINT_DISABLE=1
export SEI_ENDPOINT="$SEI_ENDPOINT" SEI_API_KEY="$SEI_API_KEY"
export BITBUCKET_API_URL="$BITBUCKET_API_URL" BITBUCKET_OAUTH_URL="$BITBUCKET_OAUTH_URL"
export TF_VAR_ops_token="$TF_VAR_ops_token" TF_VAR_ci_token="$TF_VAR_ci_token"
export TF_VAR_bbdc_url="$TF_VAR_bbdc_url" TF_VAR_bbdc_token="$TF_VAR_bbdc_token"
export TF_VAR_consumer_secret="$TF_VAR_consumer_secret"
ENV
  cat >"$work/stop.sh" <<STOP
#!/usr/bin/env bash
# Stops the quickstart's sei-sandbox and removes its files.
kill -TERM -- "-$sandbox_pid" 2>/dev/null || kill -TERM "$sandbox_pid" 2>/dev/null || true
rm -rf "$work"
echo "sei-sandbox stopped"
STOP
  chmod +x "$work/stop.sh"
  step "The sandbox keeps running (--keep): a playground"
  echo "In a new shell, paste these lines (they are also in $work/env.sh):"
  echo
  cat "$work/env.sh"
  echo
  echo "Then, for example: cd $root/examples/quickstart && terraform apply"
  echo "(every directory under examples/ applies there; examples/with-module needs \`terraform get\` first)."
  echo "CLI config (dev_overrides, no terraform init needed): $work/terraform.rc"
  echo
  echo "Stop the sandbox and remove its files with:"
  echo "  $work/stop.sh"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n "$provider_bin" && -n "$sandbox_bin" ]]; then
  step "Using prebuilt binaries: $provider_bin and $sandbox_bin"
  [[ -x "$provider_bin" ]] || die "SEI_PROVIDER_BIN=$provider_bin is not an executable"
  [[ -x "$sandbox_bin" ]] || die "SEI_SANDBOX_BIN=$sandbox_bin is not an executable"
else
  step "Building terraform-provider-sei and sei-sandbox (release)"
  cargo build --release --locked --bins
  provider_bin="$root/target/release/terraform-provider-sei"
  sandbox_bin="$root/target/release/sei-sandbox"
fi
# dev_overrides takes a directory holding terraform-provider-sei.
mkdir -p "$work/bin"
cp "$provider_bin" "$work/bin/terraform-provider-sei"

step "Starting sei-sandbox with examples/sandbox/seed.json"
# Its own process group: Ctrl-C in this terminal reaches this script, whose
# cleanup then stops the sandbox in order, after the destroy.
setsid "$sandbox_bin" --listen 127.0.0.1:0 \
  --seed "$root/examples/sandbox/seed.json" >"$work/sandbox.out" 2>"$work/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 1 200); do
  grep -q 'listening on' "$work/sandbox.out" 2>/dev/null && break
  kill -0 "$sandbox_pid" 2>/dev/null || die "sei-sandbox exited; see $work/sandbox.log"
  sleep 0.05
done
base=$(sed -n 's/^sei-sandbox listening on //p' "$work/sandbox.out")
[[ -n "$base" ]] || die "sei-sandbox did not start"
echo "sei-sandbox is serving on $base"

step "Installing the provider for Terraform (dev_overrides in a temporary CLI config)"
cat >"$work/terraform.rc" <<RC
provider_installation {
  dev_overrides {
    "sei-oss/sei" = "$work/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraform.rc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export SEI_ENDPOINT="$base/sei/api" SEI_API_KEY="sandbox-sei-api-key"
export BITBUCKET_API_URL="$base/bitbucket/2.0" BITBUCKET_OAUTH_URL="$base/bitbucket/site/oauth2"
# Secrets travel as ephemeral variables: never in plan files or state.
export TF_VAR_ops_token="ATATT-sandbox-ops-token" TF_VAR_ci_token="ATATT-sandbox-ci-token"
# What the other examples ask for (examples/datacenter, the OAuth token).
export TF_VAR_bbdc_url="$base/bbdc" TF_VAR_bbdc_token="BBDC-sandbox-svc-sei-token"
export TF_VAR_consumer_secret="sandbox-tf-consumer-secret"
echo "CLI config: $TF_CLI_CONFIG_FILE"

mkdir -p "$work/tf"
cp "$root/examples/quickstart/main.tf" "$work/tf/"
cd "$work/tf"

step "terraform apply examples/quickstart"
applied=yes
terraform apply -auto-approve -input=false -no-color

step "Outputs"
terraform output -no-color
id=$(terraform output -raw integration_id)

step "Changing the integration outside Terraform (as someone in the SEI UI would)"
curl -fsS -X PUT "$SEI_ENDPOINT/v1/integrations/$id" \
  -H "Authorization: ApiKey $SEI_API_KEY" -H 'Content-Type: application/json' \
  -d '{"name":"bb-quickstart","description":"edited in the SEI UI","tags":["99"],"metadata":{"fetch_commits":true,"fetch_prs":false,"fetch_pr_reviews":true,"fetch_commit_files":false,"repos":"acme/api,acme/web"}}' >/dev/null
echo "description, tags and fetch_prs changed on integration $id"

step "terraform plan shows the drift (exit code 2 = changes)"
set +e
terraform plan -detailed-exitcode -input=false -no-color
plan_code=$?
set -e
[[ $plan_code -eq 2 ]] || die "expected terraform plan -detailed-exitcode to return 2, got $plan_code"
echo "terraform plan returned 2: the drift is visible and the next apply would restore it"
