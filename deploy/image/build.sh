#!/usr/bin/env bash
# Builds the tracee-ts container image end to end, with no container registry:
#
#   1. Debian packages for the build: podman, runc, debootstrap (apt, if missing)
#   2. the project's artifacts: `npm run build` (eBPF object, native addon, bundles; incremental)
#   3. a Debian 12 base root filesystem made by debootstrap from Debian's packages,
#      with the run-time libraries the addon and node need, imported with
#      `podman import` as localhost/tracee-ts-base:<key>            (cached)
#   4. a build context: node (this machine's Node 20 binary), the app tree for
#      /tracee-ts with production node_modules only, deploy/entrypoint.sh
#   5. `podman build -f deploy/Containerfile` → localhost/tracee-ts:dev (skipped
#      when an image built from the same context already exists)
#
# usage: deploy/image/build.sh [build|base|context|env|clean|purge] [--no-artifacts]
#   build         all of the above (default)
#   base          only steps 1 and 3
#   context       only steps 1, 2 and 4 (prints the context directory)
#   save FILE     build, then write the image as a docker-archive (podman save) to FILE, for
#                 `ctr -n k8s.io images import FILE`, `docker load -i FILE`, `k3s ctr images import FILE`
#   env           print the environment that selects this image's private podman storage
#                 (eval "$(deploy/image/build.sh env)"; then: tpodman images)
#   clean         remove the image, the staged context and unused layers (keeps the base cache)
#   purge         clean + the debootstrap cache and the whole private storage
#   --no-artifacts  do not run `npm run build` (use the artifacts as they are)
# env: TRACEE_IMAGE (default localhost/tracee-ts:dev), TRACEE_IMAGE_STATE (default
#      /var/lib/tracee-ts-image), TRACEE_IMAGE_RUN (default /run/tracee-ts-image),
#      DEBIAN_MIRROR (default http://deb.debian.org/debian), NODE_BIN (default: node on PATH),
#      TRACEE_TS_SRC (the checkout to package; default: the one holding this script)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# the tree whose artifacts go into the image (default: this checkout)
ROOT=$(cd "${TRACEE_TS_SRC:-$HERE/../..}" && pwd)
# shellcheck source=podman-env.sh
. "$HERE/podman-env.sh"

SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# what the image needs at run time besides the minbase system: libbpf1 (+ libelf1, zlib1g)
# for the native addon, libstdc++6/libgcc-s1 for node and the addon. No compilers.
BASE_PACKAGES=libbpf1,libelf1,zlib1g,libstdc++6,libgcc-s1
BASE_REV=1   # bump to force a new base when the recipe below changes
CACHE=$TRACEE_IMAGE_STATE/cache
CONTEXT=$TRACEE_IMAGE_STATE/context
NODE_MIN=20.18.1

log() { printf '%s build.sh: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
timed() { local s=$SECONDS; "$@"; log "took $((SECONDS - s)) s: ${*:1:2}"; }
retry() { local n; for n in 1 2 3; do "$@" && return 0; log "attempt $n failed: $*"; sleep 5; done; return 1; }

ensure_packages() {
  local missing=() p
  for p in podman runc debootstrap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  retry apt-get -o DPkg::Lock::Timeout=300 update -qq
  retry env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

base_key() {
  printf '%s\n' "$SUITE" "$DEBIAN_MIRROR" "$SECURITY_MIRROR" "$BASE_PACKAGES" "$BASE_REV" | sha256sum | cut -c1-12
}

# Step 3: the debootstrap root filesystem, cached as a tarball under $CACHE and
# as an image in the private storage.
build_base() {
  local key tar image rootfs
  key=$(base_key)
  tar=$CACHE/debian-$SUITE-$key.tar
  image=localhost/tracee-ts-base:$SUITE-$key
  BASE_IMAGE=$image
  if tpodman image exists "$image"; then log "base image $image: cached"; return 0; fi
  if [ ! -s "$tar" ]; then
    mkdir -p "$CACHE/debs"
    rootfs=$CACHE/rootfs-$key.tmp
    rm -rf "$rootfs"
    log "debootstrap $SUITE (minbase + $BASE_PACKAGES) from $DEBIAN_MIRROR: the first time takes minutes"
    timed retry debootstrap --variant=minbase --include="$BASE_PACKAGES" --cache-dir="$CACHE/debs" \
      "$SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
      die "debootstrap failed; see $CACHE/debootstrap.log (last lines: $(tail -3 "$CACHE/debootstrap.log" | tr '\n' ' '))"
    # the point release's security fixes, from Debian's security archive
    cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $SUITE main
deb $DEBIAN_MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
    cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
    log "applying $SUITE-updates and $SUITE-security in the root filesystem"
    timed retry chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
      sh -c 'apt-get update -qq && apt-get upgrade -y -qq -o Dpkg::Options::=--force-confold >/dev/null' >>"$CACHE/debootstrap.log" 2>&1 ||
      die "upgrading the root filesystem failed; see $CACHE/debootstrap.log"
    chroot "$rootfs" apt-get clean
    # slim: package lists, docs, man pages, logs; the host's resolver and hostname
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* \
      "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
      "$rootfs"/etc/resolv.conf "$rootfs"/etc/hostname "$rootfs"/tmp/* "$rootfs"/root/.bash_history
    : >"$rootfs/etc/resolv.conf"
    chroot "$rootfs" sh -c '! command -v gcc && ! command -v cc && ! command -v clang' >/dev/null ||
      die "a compiler ended up in the base root filesystem"
    tar --numeric-owner --xattrs -C "$rootfs" -cf "$tar.tmp" .
    mv "$tar.tmp" "$tar"
    rm -rf "$rootfs"
    log "base root filesystem cached: $tar ($(du -h "$tar" | cut -f1))"
  else
    log "base root filesystem: cached $tar"
  fi
  timed tpodman import -q --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' "$tar" "$image" >/dev/null
  log "base image $image: imported"
}

# Step 2
build_artifacts() {
  if [ "${NO_ARTIFACTS:-0}" = 1 ]; then log "artifacts: as they are (--no-artifacts)"; return 0; fi
  log "artifacts: npm run build (incremental)"
  (cd "$ROOT" && timed npm run --silent build)
}

node_version_ok() { # node_version_ok VERSION: VERSION >= NODE_MIN
  [ "$(printf '%s\n%s\n' "$NODE_MIN" "$1" | sort -V | head -1)" = "$NODE_MIN" ]
}

# Step 4: the build context the Containerfile expects:
#   node          the Node 20 binary (this machine's; Debian 12's nodejs is v18)
#   entrypoint.sh deploy/entrypoint.sh
#   app/          /tracee-ts: package.json, host/, bundles/*.wasm, templates/, bpf/build/tracee.bpf.o,
#                 native/build/Release/tracee_capture.node, signatures-as/, signatures-rego/,
#                 node_modules/ (production only)
build_context() {
  local node ver f
  node=$(readlink -f "${NODE_BIN:-$(command -v node)}") || die "node not found"
  ver=$("$node" -p process.versions.node)
  node_version_ok "$ver" || die "node $ver at $node: the image needs Node >= $NODE_MIN"
  for f in bpf/build/tracee.bpf.o native/build/Release/tracee_capture.node package.json package-lock.json; do
    [ -f "$ROOT/$f" ] || die "$f is missing: run npm run build (or bash .ci/setup.sh)"
  done
  compgen -G "$ROOT/bundles/*.wasm" >/dev/null || die "bundles/*.wasm missing: run npm run build"
  [ -f "$ROOT/node_modules/.package-lock.json" ] || die "node_modules missing: run npm ci"

  rm -rf "$CONTEXT.tmp"
  mkdir -p "$CONTEXT.tmp/app/bpf/build" "$CONTEXT.tmp/app/native/build/Release" "$CONTEXT.tmp/app/bundles"
  cp "$node" "$CONTEXT.tmp/node"
  cp "$HERE/../entrypoint.sh" "$CONTEXT.tmp/entrypoint.sh"
  cp "$HERE/../Containerfile" "$CONTEXT.tmp/Containerfile"
  cd "$ROOT"
  cp package.json package-lock.json tsconfig.json "$CONTEXT.tmp/app/"
  cp -r host templates "$CONTEXT.tmp/app/"
  [ -d signatures-as ] && cp -r signatures-as "$CONTEXT.tmp/app/"
  [ -d signatures-rego ] && cp -r signatures-rego "$CONTEXT.tmp/app/"
  cp bundles/*.wasm "$CONTEXT.tmp/app/bundles/"
  cp bpf/build/tracee.bpf.o "$CONTEXT.tmp/app/bpf/build/"
  cp native/build/Release/tracee_capture.node "$CONTEXT.tmp/app/native/build/Release/"
  cp -a node_modules "$CONTEXT.tmp/app/node_modules"
  # production dependencies only, from the lock file, without the network
  (cd "$CONTEXT.tmp/app" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error >/dev/null) ||
    die "npm prune --omit=dev failed"
  [ ! -e "$CONTEXT.tmp/app/node_modules/typescript" ] || die "dev dependencies left in the context"
  rm -rf "$CONTEXT"
  mv "$CONTEXT.tmp" "$CONTEXT"
  cd - >/dev/null
}

context_hash() {
  (cd "$CONTEXT" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
}

# the image also gets the package version as a tag (the helm chart's default image tag)
version_tag() {
  echo "${TRACEE_IMAGE%:*}:$(node -p "require('$CONTEXT/app/package.json').version")"
}

# Step 5
build_image() {
  local hash current
  hash=$( { context_hash; echo "$BASE_IMAGE"; } | sha256sum | cut -c1-64)
  current=$(tpodman image inspect "$TRACEE_IMAGE" --format '{{index .Labels "io.tracee-ts.context-sha256"}}' 2>/dev/null || true)
  if [ "$current" = "$hash" ]; then
    tpodman tag "$TRACEE_IMAGE" "$(version_tag)"
    log "image $TRACEE_IMAGE: up to date (context $hash)"
    return 0
  fi
  log "podman build $TRACEE_IMAGE from $BASE_IMAGE"
  timed tpodman build --network=none --pull=never --layers=false \
    --build-arg BASE_IMAGE="$BASE_IMAGE" --label io.tracee-ts.context-sha256="$hash" \
    -f "$CONTEXT/Containerfile" -t "$TRACEE_IMAGE" "$CONTEXT" >"$TRACEE_IMAGE_STATE/podman-build.log" 2>&1 ||
    die "podman build failed; see $TRACEE_IMAGE_STATE/podman-build.log:
$(tail -20 "$TRACEE_IMAGE_STATE/podman-build.log")"
  tpodman tag "$TRACEE_IMAGE" "$(version_tag)"
  tpodman image prune -f >/dev/null 2>&1 || true
  log "image $TRACEE_IMAGE ($(version_tag)): built ($(tpodman image inspect "$TRACEE_IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))"
}

main() {
  local cmd=build arg
  for arg in "$@"; do
    case "$arg" in
      --no-artifacts) NO_ARTIFACTS=1 ;;
      build|base|context|env|clean|purge|save) cmd=$arg ;;
      -h|--help) sed -n '2,/^set -euo/{/^set/d;p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) if [ "$cmd" = save ] && [ -z "${SAVE_TO:-}" ]; then SAVE_TO=$arg; else die "unknown argument: $arg (see --help)"; fi ;;
    esac
  done
  [ "$(id -u)" = 0 ] || die "run as root (debootstrap and rootful podman need it)"
  case "$cmd" in
    env)
      cat <<EOF
export TRACEE_IMAGE_STATE=$TRACEE_IMAGE_STATE TRACEE_IMAGE_RUN=$TRACEE_IMAGE_RUN TRACEE_IMAGE=$TRACEE_IMAGE
. $HERE/podman-env.sh
EOF
      return 0 ;;
    clean)
      tracee_image_write_podman_conf
      tpodman rmi -f "$TRACEE_IMAGE" >/dev/null 2>&1 || true
      tpodman image prune -f >/dev/null 2>&1 || true
      rm -rf "$CONTEXT" "$CONTEXT.tmp"
      log "clean: done"; return 0 ;;
    purge)
      tracee_image_write_podman_conf
      tpodman rm -af -t 0 >/dev/null 2>&1 || true
      tpodman rmi -af >/dev/null 2>&1 || true
      # containers/storage keeps a private bind mount of its overlay directory
      awk -v d="$TRACEE_IMAGE_STATE/storage" -v r="$TRACEE_IMAGE_RUN" 'index($2, d) == 1 || index($2, r) == 1 {print $2}' /proc/mounts |
        sort -r | xargs -r -n1 umount 2>/dev/null || true
      rm -rf "$TRACEE_IMAGE_STATE" "$TRACEE_IMAGE_RUN"
      log "purge: done"; return 0 ;;
  esac
  local start=$SECONDS
  # one build at a time per state directory (concurrent test runs share the context and storage)
  mkdir -p "$TRACEE_IMAGE_STATE"
  exec 9>"$TRACEE_IMAGE_STATE/build.lock"
  flock -w 1800 9 || die "another build.sh holds $TRACEE_IMAGE_STATE/build.lock"
  ensure_packages
  tracee_image_write_podman_conf
  case "$cmd" in
    base) build_base ;;
    context) build_artifacts; build_context; echo "$CONTEXT" ;;
    build|save)
      build_base
      build_artifacts
      timed build_context
      build_image
      if [ "$cmd" = save ]; then
        [ -n "${SAVE_TO:-}" ] || die "save: which file? (build.sh save FILE)"
        rm -f "$SAVE_TO"
        timed tpodman save -q --format docker-archive -o "$SAVE_TO" "$TRACEE_IMAGE" "$(version_tag)"
        log "saved $TRACEE_IMAGE and $(version_tag) to $SAVE_TO"
      fi
      log "done in $((SECONDS - start)) s: $TRACEE_IMAGE"
      echo "$TRACEE_IMAGE" ;;
  esac
}

main "$@"
