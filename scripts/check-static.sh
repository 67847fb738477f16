#!/usr/bin/env bash
# Proves a provider binary runs wherever Terraform runs: no ELF interpreter,
# no NEEDED libraries, and it prints its go-plugin handshake in an empty root
# directory holding nothing but itself (unshare + chroot, no privileges).
# Usage: scripts/check-static.sh BINARY
set -euo pipefail
binary=$1
if readelf -lW "$binary" | grep -q INTERP; then echo "FAIL: $binary has an ELF interpreter" >&2; exit 1; fi
if readelf -dW "$binary" | grep -q '(NEEDED)'; then
  echo "FAIL: $binary needs shared libraries:" >&2; readelf -dW "$binary" | grep '(NEEDED)' >&2; exit 1
fi
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
cp "$binary" "$empty/terraform-provider-sei"
cert=$(openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp521r1 -nodes -keyout /dev/null \
  -subj /CN=terraform -days 1 2>/dev/null)
line=$(env -i PATH="$PATH" PLUGIN_CLIENT_CERT="$cert" PLUGIN_PROTOCOL_VERSIONS=6 PLUGIN_UNIX_SOCKET_DIR=/ \
  TF_PLUGIN_MAGIC_COOKIE=d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2 \
  timeout 5 unshare --user --map-root-user chroot "$empty" /terraform-provider-sei | head -n1 || true)
if [[ ! "$line" =~ ^1\|6\|unix\|/plugin[0-9]+\|grpc\|.+ ]]; then
  echo "FAIL: no handshake from $binary in an empty root (got: ${line:0:80})" >&2; exit 1
fi
echo "static: no interpreter, no NEEDED, handshake in an empty root: ${line:0:40}..."
