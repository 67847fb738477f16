#!/usr/bin/env bash
# The release command for this machine: builds the release binary (on
# x86_64 Linux statically linked, see scripts/static-env.sh), proves it is
# static (no ELF interpreter, no NEEDED libraries, the handshake printed in
# an empty root), and writes the registry artifacts and the sei-sandbox
# zip to dist/.
# Usage: scripts/release.sh [VERSION]   (default: the version in Cargo.toml)
# The other platforms, the GPG signature and the GitHub release come from
# .github/workflows/release.yml, which runs the same scripts/package.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
version=${1:-$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)}
# shellcheck source=scripts/static-env.sh
source scripts/static-env.sh
cargo build --release --locked --bin terraform-provider-sei --bin sei-sandbox
binary="$target_dir/release/terraform-provider-sei"
if [[ "${SEI_EXPECT_STATIC:-}" == 1 ]]; then
  "$root/scripts/check-static.sh" "$binary"
fi
rm -rf dist
"$root/scripts/package.sh" --sandbox "$target_dir/release/sei-sandbox" "$binary" "$version" dist >/dev/null
size=$(stat -c %s "$binary")
echo "Release $version:"
ls -l dist
awk -v s="$size" 'BEGIN { printf "Stripped release binary: %d bytes (%.1f MiB)\n", s, s / 1048576 }'
