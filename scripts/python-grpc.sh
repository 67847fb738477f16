#!/usr/bin/env bash
# Installs grpcio from PyPI into a venv under target/tools (nothing is
# installed system-wide), for the test that calls the provider from a Python
# gRPC client (crates/provider/tests/grpc.rs). Prints the interpreter.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/target/tools/grpcio"
if ! "$venv/bin/python" -c 'import grpc' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: "grpcio==1.84.0" >&2
fi
echo "$venv/bin/python"
