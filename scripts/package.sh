#!/usr/bin/env bash
# Packages provider binaries the way the Terraform registry expects:
#   terraform-provider-sei_<version>_<os>_<arch>.zip   (binary terraform-provider-sei_v<version>[.exe] at the root)
#   terraform-provider-sei_<version>_manifest.json     (a copy of terraform-registry-manifest.json)
#   terraform-provider-sei_<version>_SHA256SUMS         (covering every zip and the manifest)
# The same script runs locally (scripts/release.sh), in the tests and in
# .github/workflows/release.yml, where each platform's job zips its binary
# and the release job writes the sums over all of them.
#
# Usage: scripts/package.sh BINARY VERSION OUTDIR [OS_ARCH]      one zip, the manifest and the sums
#        scripts/package.sh --zip-only BINARY VERSION OUTDIR OS_ARCH
#        scripts/package.sh --sums VERSION OUTDIR                 the manifest and the sums of OUTDIR's zips
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=terraform-provider-sei
host_os_arch() {
  echo "$(uname -s | tr '[:upper:]' '[:lower:]')_$(uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')"
}

zip_one() {
  local binary=$1 version=$2 out=$3 os_arch=$4 exe=""
  [[ $os_arch == windows_* ]] && exe=.exe
  mkdir -p "$out"
  local stage
  stage=$(mktemp -d)
  cp "$binary" "$stage/${name}_v${version}${exe}"
  chmod 0755 "$stage/${name}_v${version}${exe}"
  local zip="$out/${name}_${version}_${os_arch}.zip"
  rm -f "$zip"
  python3 - "$zip" "$stage/${name}_v${version}${exe}" <<'PY'
import os, sys, zipfile
zip_path, binary = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
    # A fixed date: the same binary always gives the same zip and checksum.
    info = zipfile.ZipInfo(os.path.basename(binary), date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(binary, "rb") as f:
        z.writestr(info, f.read())
PY
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
files = sorted(f for f in os.listdir(out) if f.startswith(prefix) and (f.endswith(".zip") or f.endswith("_manifest.json")))
with open(os.path.join(out, prefix + "SHA256SUMS"), "w") as s:
    for f in files:
        with open(os.path.join(out, f), "rb") as b:
            s.write("%s  %s\n" % (hashlib.sha256(b.read()).hexdigest(), f))
PY
}

case "${1:-}" in
  --zip-only) shift; zip_one "$1" "$2" "$3" "$4" ;;
  --sums) shift; sums "$1" "$2" ;;
  *)
    binary=$1 version=$2 out=$3
    zip_one "$binary" "$version" "$out" "${4:-$(host_os_arch)}"
    sums "$version" "$out"
    ;;
esac
