#!/usr/bin/env bash
# Builds the release binary and writes the registry artifacts to dist/.
# Usage: scripts/release.sh [VERSION]   (default: the version in Cargo.toml)
# Signing SHA256SUMS (the registry's .sig) needs the maintainers' GPG key
# and happens outside this script: gpg --detach-sign dist/*_SHA256SUMS
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
version=${1:-$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)}
cargo build --release --locked --bin terraform-provider-sei
rm -rf dist
"$root/scripts/package.sh" target/release/terraform-provider-sei "$version" dist >/dev/null
size=$(stat -c %s target/release/terraform-provider-sei)
echo "Release $version:"
ls -l dist
awk -v s="$size" 'BEGIN { printf "Stripped release binary: %d bytes (%.1f MiB)\n", s, s / 1048576 }'
