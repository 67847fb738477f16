#!/usr/bin/env bash
# Packages a built provider binary the way the Terraform registry expects:
#   terraform-provider-sei_<version>_<os>_<arch>.zip   (binary terraform-provider-sei_v<version> at the root)
#   terraform-provider-sei_<version>_manifest.json     (a copy of terraform-registry-manifest.json)
#   terraform-provider-sei_<version>_SHA256SUMS         (covering the zips and the manifest)
# Usage: scripts/package.sh BINARY VERSION OUTDIR [OS_ARCH]
set -euo pipefail
binary=$1 version=$2 out=$3
os_arch=${4:-$(uname -s | tr '[:upper:]' '[:lower:]')_$(uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=terraform-provider-sei
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$binary" "$stage/${name}_v${version}"
chmod 0755 "$stage/${name}_v${version}"
zip="$out/${name}_${version}_${os_arch}.zip"
rm -f "$zip"
python3 - "$zip" "$stage/${name}_v${version}" <<'PY'
import sys, zipfile
zip_path, binary = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
    info = zipfile.ZipInfo(binary.rsplit("/", 1)[1], date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(binary, "rb") as f:
        z.writestr(info, f.read())
PY
cp "$root/terraform-registry-manifest.json" "$out/${name}_${version}_manifest.json"
(cd "$out" && sha256sum ${name}_${version}_*.zip ${name}_${version}_manifest.json > ${name}_${version}_SHA256SUMS)
echo "$zip"
