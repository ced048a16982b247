#!/usr/bin/env bash
# Sets up a fresh machine (Debian 12, as root) for tracee-ts, and is quick when
# everything is already in place: Debian packages, npm ci, the eBPF object,
# the native addon and the built-in signature bundles.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool gcc make pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # jco's optional per-platform packages are not all resolvable from this registry, so npm
  # leaves some out of the lock file and `npm ci` refuses it as out of sync; `npm install`
  # installs the same locked versions.
  npm ci --no-audit --no-fund 2>/dev/null || npm install --no-audit --no-fund
fi

npm run --silent build
