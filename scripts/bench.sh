#!/usr/bin/env bash
# What Terraform operations cost with this provider (see scripts/bench.py):
# apply, plan, plan -parallelism=1, plan -refresh=false and destroy of N
# integrations (default 300) sharing 2 credentials, at zero and at real
# latency, against the same operations on N terraform_data resources.
# Usage: scripts/bench.sh [N] [--sei-ms MS] [--bitbucket-ms MS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
command -v /usr/bin/time >/dev/null || { echo "bench.sh needs GNU time (apt-get install time)" >&2; exit 1; }
# The binaries as they ship: statically linked on Linux (scripts/static-env.sh).
# shellcheck source=scripts/static-env.sh
source scripts/static-env.sh
cargo build --release --locked --bins >/dev/null
export SEI_RELEASE_DIR="$root/$target_dir/release"
exec python3 "$root/scripts/bench.py" "$@"
