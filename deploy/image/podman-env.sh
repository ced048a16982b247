# Sourced by the image scripts (and printed by `build.sh env`): a podman of our own.
#
# The image is built and run with its own containers/storage graph root, run
# root, libpod temporary directory and configuration, so it never touches the
# podman state of anyone else on the machine (/var/lib/containers, /run/libpod,
# /run/containers). Every podman call of these scripts goes through `tpodman`.
#
# The configuration is what this kind of machine needs (see docs/deploy.md):
#   runc, not crun       crun refuses hybrid cgroups while cgroup2 holds a controller
#   cgroupfs             there is no systemd
#   nofile/nproc limits  root lacks CAP_SYS_RESOURCE, so podman's default 1048576 fails
#
# Overridable: TRACEE_IMAGE_STATE (persistent: storage, caches), TRACEE_IMAGE_RUN
# (runtime state), TRACEE_IMAGE (the image name).

TRACEE_IMAGE_STATE=${TRACEE_IMAGE_STATE:-/var/lib/tracee-ts-image}
TRACEE_IMAGE_RUN=${TRACEE_IMAGE_RUN:-/run/tracee-ts-image}
TRACEE_IMAGE=${TRACEE_IMAGE:-localhost/tracee-ts:dev}
export TRACEE_IMAGE_STATE TRACEE_IMAGE_RUN TRACEE_IMAGE

export CONTAINERS_CONF="$TRACEE_IMAGE_STATE/containers.conf"
export CONTAINERS_STORAGE_CONF="$TRACEE_IMAGE_STATE/storage.conf"
# containers.conf of the registries: none are reachable; short names never resolve remotely
export CONTAINERS_REGISTRIES_CONF="$TRACEE_IMAGE_STATE/registries.conf"

tracee_image_write_podman_conf() {
  mkdir -p "$TRACEE_IMAGE_STATE" "$TRACEE_IMAGE_RUN"
  cat >"$CONTAINERS_CONF.tmp" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
tmp_dir = "$TRACEE_IMAGE_RUN/libpod"
EOF
  mv "$CONTAINERS_CONF.tmp" "$CONTAINERS_CONF"
  cat >"$CONTAINERS_STORAGE_CONF.tmp" <<EOF
[storage]
driver = "overlay"
graphroot = "$TRACEE_IMAGE_STATE/storage"
runroot = "$TRACEE_IMAGE_RUN/storage"
EOF
  mv "$CONTAINERS_STORAGE_CONF.tmp" "$CONTAINERS_STORAGE_CONF"
  cat >"$CONTAINERS_REGISTRIES_CONF.tmp" <<'EOF'
unqualified-search-registries = []
short-name-mode = "disabled"
EOF
  mv "$CONTAINERS_REGISTRIES_CONF.tmp" "$CONTAINERS_REGISTRIES_CONF"
}

# tpodman: podman with our storage, also given on the command line so a stray
# CONTAINERS_* variable in the caller's environment cannot redirect it.
# tpodman_args prints those global arguments, one a line (for programs: test/e2e/image.test.ts).
tpodman_args() {
  printf '%s\n' --root "$TRACEE_IMAGE_STATE/storage" --runroot "$TRACEE_IMAGE_RUN/storage" \
    --cgroup-manager cgroupfs --runtime runc --events-backend file --tmpdir "$TRACEE_IMAGE_RUN/libpod"
}
tpodman() {
  local IFS=$'\n'
  # shellcheck disable=SC2046
  podman $(tpodman_args) "$@"
}
