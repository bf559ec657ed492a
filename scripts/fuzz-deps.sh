#!/usr/bin/env bash
# Installs what the REST fuzz test needs: schemathesis and its dependencies, pinned in
# tests/fuzz/requirements.txt, in a virtualenv outside the repository
# (FUZZ_VENV, default $HOME/.cache/blog-gateway/fuzz-venv; tests/it/fuzz.rs uses the same default).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${FUZZ_VENV:-$HOME/.cache/blog-gateway/fuzz-venv}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import ssl, venv, ensurepip' >/dev/null 2>&1 && [ -z "${PYTHON:-}" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
fi
if ! "$python" -c 'import ssl, venv, ensurepip' >/dev/null 2>&1; then
  echo "fuzz-deps: $python cannot make a virtualenv with pip (needs the ssl, venv and ensurepip modules; on Debian: apt-get install python3-venv); set PYTHON to another interpreter" >&2
  exit 1
fi
# Reinstall when the requirements changed since the last install.
stamp="$venv/.requirements-sha256"
want=$(sha256sum tests/fuzz/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/schemathesis" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r tests/fuzz/requirements.txt
  echo "$want" >"$stamp"
fi
"$venv/bin/schemathesis" --version >/dev/null
