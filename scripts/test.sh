#!/usr/bin/env bash
# The test command: formatting, lints, build, then every test — unit
# tests, sandbox HTTP tests, gRPC tests against the real binary, and the
# end-to-end tests that drive the real terraform binary.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
command -v terraform >/dev/null || { echo "terraform (>= 1.11) must be on PATH" >&2; exit 1; }
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
echo "==> cargo build (debug: the one profile every test uses)"
cargo build --locked --all-targets
echo "==> cargo test"
cargo test --locked --all-targets -- --test-threads "${TEST_THREADS:-4}"
