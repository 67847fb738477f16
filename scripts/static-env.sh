# Sourced by scripts/test.sh, scripts/release.sh and the release workflow: on
# Linux (x86_64, aarch64), build
# the way the release ships, statically linked.
#
# - glibc's crt-static: no ELF interpreter, no shared libraries, so the
#   binary starts on Alpine (musl), RHEL 8, Ubuntu 20.04 or Amazon Linux 2.
# - Host names resolve through hickory (reqwest's hickory-dns feature), not
#   glibc's NSS, which a static glibc cannot load.
# - getrandom calls the getrandom(2) wrapper linked in, instead of looking
#   it up with dlsym, which a static binary cannot do (and then falling back
#   to /dev/urandom, which an empty root does not have).
#
# An explicit --target (CARGO_BUILD_TARGET) keeps these flags off build
# scripts and proc macros, which must stay dynamic.
if [[ "$(uname -s)" == Linux && "$(uname -m)" =~ ^(x86_64|aarch64)$ && "${SEI_STATIC:-1}" == 1 ]]; then
  export CARGO_BUILD_TARGET="$(uname -m)-unknown-linux-gnu"
  export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\""
  export SEI_EXPECT_STATIC=1
  target_dir="target/$CARGO_BUILD_TARGET"
else
  target_dir="target"
fi
