#!/usr/bin/env bash
# The long run of the codec fuzzer (release build): hostile regression
# classes, then INPUTS random and mutated msgpack and JSON values decoded
# against schema-shaped types. Prints the counts, the slowest input and the
# peak memory; exits 1 on any panic or any input over one second.
# Usage: scripts/fuzz.sh [INPUTS (default 10000000)] [SEED]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo run --release --locked -q -p tfplugin --example fuzz_codec -- "$@"
