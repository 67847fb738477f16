#!/usr/bin/env bash
# Packages provider binaries the way the Terraform registry expects:
#   terraform-provider-sei_<version>_<os>_<arch>.zip   (binary terraform-provider-sei_v<version>[.exe] at the root)
#   terraform-provider-sei_<version>_manifest.json     (a copy of terraform-registry-manifest.json)
#   terraform-provider-sei_<version>_SHA256SUMS         (covering every zip and the manifest)
# and, with --sandbox, the emulator the quickstart and the examples run against:
#   sei-sandbox_<version>_<os>_<arch>.zip               (sei-sandbox[.exe] and its seed.json at the root)
# The same script runs locally (scripts/release.sh), in the tests and in
# .github/workflows/release.yml, where each platform's job zips its binary
# and the release job writes the sums over all of them.
#
# Usage: scripts/package.sh [--sandbox SANDBOX] BINARY VERSION OUTDIR [OS_ARCH]
#                                             the zip(s), the manifest and the sums
#        scripts/package.sh --zip-only [--sandbox SANDBOX] BINARY VERSION OUTDIR OS_ARCH
#        scripts/package.sh --sums VERSION OUTDIR   the manifest and the sums of OUTDIR's zips
# Each zip's path is printed on its own line, the provider's first.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=terraform-provider-sei
host_os_arch() {
  echo "$(uname -s | tr '[:upper:]' '[:lower:]')_$(uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')"
}

# write_zip ZIP FILE MODE [FILE MODE ...]: each file at the zip's root.
write_zip() {
  python3 - "$@" <<'PY'
import os, sys, zipfile
zip_path, entries = sys.argv[1], sys.argv[2:]
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
    for path, mode in zip(entries[0::2], entries[1::2]):
        # A fixed date: the same files always give the same zip and checksum.
        info = zipfile.ZipInfo(os.path.basename(path), date_time=(2026, 1, 1, 0, 0, 0))
        info.external_attr = int(mode, 8) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
PY
}

zip_one() {
  local binary=$1 version=$2 out=$3 os_arch=$4 exe=""
  [[ $os_arch == windows_* ]] && exe=.exe
  mkdir -p "$out"
  local stage
  stage=$(mktemp -d)
  cp "$binary" "$stage/${name}_v${version}${exe}"
  local zip="$out/${name}_${version}_${os_arch}.zip"
  rm -f "$zip"
  write_zip "$zip" "$stage/${name}_v${version}${exe}" 755
  rm -rf "$stage"
  echo "$zip"
}

# The sandbox zip: not a provider package (Terraform never installs it), so
# it is named after the sandbox and holds its binary and the seed the
# quickstart and examples use.
zip_sandbox() {
  local binary=$1 version=$2 out=$3 os_arch=$4 exe=""
  [[ $os_arch == windows_* ]] && exe=.exe
  mkdir -p "$out"
  local stage
  stage=$(mktemp -d)
  cp "$binary" "$stage/sei-sandbox${exe}"
  cp "$root/examples/sandbox/seed.json" "$stage/seed.json"
  local zip="$out/sei-sandbox_${version}_${os_arch}.zip"
  rm -f "$zip"
  write_zip "$zip" "$stage/sei-sandbox${exe}" 755 "$stage/seed.json" 644
  rm -rf "$stage"
  echo "$zip"
}

sums() {
  local version=$1 out=$2
  cp "$root/terraform-registry-manifest.json" "$out/${name}_${version}_manifest.json"
  python3 - "$out" "$version" <<'PY'
import hashlib, os, sys
out, version = sys.argv[1], sys.argv[2]
prefix = "terraform-provider-sei_%s_" % version
sandbox = "sei-sandbox_%s_" % version
files = sorted(f for f in os.listdir(out)
               if (f.startswith(prefix) and (f.endswith(".zip") or f.endswith("_manifest.json")))
               or (f.startswith(sandbox) and f.endswith(".zip")))
with open(os.path.join(out, prefix + "SHA256SUMS"), "w") as s:
    for f in files:
        with open(os.path.join(out, f), "rb") as b:
            s.write("%s  %s\n" % (hashlib.sha256(b.read()).hexdigest(), f))
PY
}

mode=all
if [[ "${1:-}" == --zip-only ]]; then mode=zip; shift; fi
if [[ "${1:-}" == --sums ]]; then
  shift
  sums "$1" "$2"
  exit 0
fi
sandbox_bin=""
if [[ "${1:-}" == --sandbox ]]; then sandbox_bin=$2; shift 2; fi
binary=$1 version=$2 out=$3 os_arch=${4:-$(host_os_arch)}
zip_one "$binary" "$version" "$out" "$os_arch"
if [[ -n "$sandbox_bin" ]]; then
  zip_sandbox "$sandbox_bin" "$version" "$out" "$os_arch"
fi
if [[ $mode == all ]]; then
  sums "$version" "$out"
fi
