#!/usr/bin/env bash
# Measures what a plan costs as integrations grow while credentials do not:
# Bitbucket calls and wall time for N integrations sharing 2 credentials in
# 1 workspace, against sei-sandbox, and prints each as a ratio to N = 1.
# Calls must stay flat (the per-process cache and single-flight); time may
# grow with Terraform's own per-resource work.
# Usage: scripts/bench.sh [N ...]   (default: 1 10 30 100)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
sizes=("${@:-1 10 30 100}")
read -r -a sizes <<<"${sizes[*]}"
cargo build --release --locked --bins >/dev/null
work=$(mktemp -d)
setsid target/release/sei-sandbox --listen 127.0.0.1:0 --seed examples/sandbox/seed.json >"$work/out" 2>/dev/null &
sandbox=$!
trap 'kill -TERM -- "-$sandbox" 2>/dev/null || kill "$sandbox"; rm -rf "$work"' EXIT
until grep -q 'listening on' "$work/out" 2>/dev/null; do sleep 0.05; done
base=$(sed -n 's/^sei-sandbox listening on //p' "$work/out")
printf 'provider_installation {\n  dev_overrides {\n    "sei-oss/sei" = "%s"\n  }\n  direct {}\n}\n' "$root/target/release" >"$work/rc"
export TF_CLI_CONFIG_FILE="$work/rc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export SEI_ENDPOINT="$base/sei/api" SEI_API_KEY=sandbox-sei-api-key BITBUCKET_API_URL="$base/bitbucket/2.0"
export TF_VAR_ops=ATATT-sandbox-ops-token TF_VAR_ci=ATATT-sandbox-ci-token
mkdir -p "$work/tf"
base_calls="" base_ms=""
printf '%6s %10s %10s %12s %10s\n' N calls calls/N1 plan_ms ms/N1
for n in "${sizes[@]}"; do
  cat >"$work/tf/main.tf" <<TF
terraform {
  required_providers {
    sei = { source = "sei-oss/sei" }
  }
}
variable "ops" {
  type      = string
  ephemeral = true
}
variable "ci" {
  type      = string
  ephemeral = true
}
resource "sei_bitbucket_integration" "x" {
  count        = $n
  name         = "bench-\${count.index}"
  repositories = ["acme/api", "acme/web"]
  credential {
    username    = "ops@acme.example"
    password_wo = var.ops
  }
  credential {
    username    = "ci@acme.example"
    password_wo = var.ci
  }
}
TF
  curl -fsS -X DELETE "$base/_sandbox/counters" >/dev/null
  start=$(date +%s%N)
  (cd "$work/tf" && terraform plan -input=false -no-color >/dev/null)
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  calls=$(curl -fsS "$base/_sandbox/counters" | python3 -c 'import json,sys; r=json.load(sys.stdin)["routes"]; print(sum(v for k,v in r.items() if " /bitbucket/" in k))')
  base_calls=${base_calls:-$calls} base_ms=${base_ms:-$ms}
  awk -v n="$n" -v c="$calls" -v bc="$base_calls" -v m="$ms" -v bm="$base_ms" \
    'BEGIN { printf "%6s %10s %10.2f %12s %10.2f\n", n, c, c / bc, m, m / bm }'
done
