#!/usr/bin/env bash
# The test command: formatting, lints, build, then every test of every crate
# of the workspace — the framework's unit and codec property tests, the
# sandbox over HTTP, the provider's unit tests, its clients against an
# in-process sandbox, the provider binary over gRPC, and the acceptance suite
# that drives the real terraform binary, a Python grpcio client of the
# provider, and actionlint on the release
# workflow. On x86_64 Linux everything is built statically, as the release is
# (scripts/static-env.sh), so the static-binary test checks the very binary
# the acceptance suite drives.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
command -v terraform >/dev/null || { echo "terraform (>= 1.11) must be on PATH" >&2; exit 1; }
# shellcheck source=scripts/static-env.sh
source scripts/static-env.sh
echo "==> scripts/python-grpc.sh (grpcio, for the Python gRPC client test)"
scripts/python-grpc.sh
echo "==> scripts/check-layers.py (no import cycle between the modules of any crate)"
python3 scripts/check-layers.py
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --locked --workspace --all-targets -- -D warnings
echo "==> cargo build (debug: the one profile every test uses; builds sei-sandbox for the acceptance suite)"
cargo build --locked --workspace --all-targets
echo "==> actionlint .github/workflows"
scripts/actionlint.sh
echo "==> cargo test"
cargo test --locked --workspace --all-targets -- --test-threads "${TEST_THREADS:-4}"
