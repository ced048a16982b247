#!/bin/sh
# Entrypoint of the tracee-ts container image (installed as /tracee-ts/entrypoint.sh).
#
#   [tracee] [FLAGS...]       run tracee (the default; a first argument starting with "-"
#                             is a tracee flag); FLAGS are passed through unchanged
#   tracee SUBCOMMAND ...     e.g. `tracee list`: passed through untouched
#   tracee-rules ...          run tracee-rules
#   COMMAND ...               any other program of the image (e.g. bash)
#
# Environment, as in Tracee's image:
#   LIBBPFGO_OSRELEASE_FILE   the host's os-release (default /etc/os-release-host, mounted with
#                             -v /etc/os-release:/etc/os-release-host:ro); exported for tracee
#                             and reported; a missing file is a warning (tracee-ts needs the
#                             host kernel's BTF, /sys/kernel/btf/vmlinux, not the distribution)
#   CONTAINERS_ENRICHMENT=1   enrich events with container and pod data from the mounted
#                             runtime sockets: exported for tracee, and the tracee flag named by
#                             TRACEE_CONTAINERS_FLAG (default --containers) is added when tracee
#                             advertises it in --help and no enrichment flag was given
# tracee-ts additions:
#   TRACEE_ARGS_FILE          a file of tracee flags, one argument a line (blank lines and lines
#                             starting with # are skipped), put before the command line's flags;
#                             the helm chart keeps its output configuration there (a ConfigMap)
#   TRACEE_EXTRA_RULES_DIRS   colon-separated directories of extra signature bundles (*.wasm, e.g.
#                             ConfigMaps); with the built-ins (unless TRACEE_BUILTIN_RULES=0) they
#                             are merged into one rules directory, used when --rules-dir is not given
#   TRACEE_TS_HOME            the install directory (default /tracee-ts)
set -eu

HOME_DIR=${TRACEE_TS_HOME:-/tracee-ts}
RUN_DIR=${TMPDIR:-/tmp}/tracee-ts

log() { echo "entrypoint: $*" >&2; }
truthy() { case "$1" in 1|true|TRUE|True|yes|YES|on|ON) return 0 ;; *) return 1 ;; esac; }

# has_flag NAME... -- ARGS...: whether one of the flags NAME is among ARGS (as NAME, NAME=... or -Xvalue for short ones)
has_flag() {
  _names=""
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do _names="$_names $1"; shift; done
  [ "$#" -gt 0 ] && shift
  for _a in "$@"; do
    for _n in $_names; do
      case "$_a" in "$_n"|"$_n"=*) return 0 ;; esac
    done
  done
  return 1
}

host_os_release() {
  _f=${LIBBPFGO_OSRELEASE_FILE:-/etc/os-release-host}
  if [ -r "$_f" ]; then
    export LIBBPFGO_OSRELEASE_FILE="$_f" TRACEE_OSRELEASE_FILE="$_f"
    _name=$(sed -n 's/^PRETTY_NAME=//p' "$_f" | tr -d '"' | head -1)
    log "host: ${_name:-unknown distribution} (from $_f), kernel $(uname -r)"
  else
    log "warning: no host os-release at $_f (mount it with -v /etc/os-release:/etc/os-release-host:ro); kernel $(uname -r)"
    unset LIBBPFGO_OSRELEASE_FILE 2>/dev/null || true
  fi
  [ -r /sys/kernel/btf/vmlinux ] || log "warning: /sys/kernel/btf/vmlinux is not readable: the host kernel needs BTF (CONFIG_DEBUG_INFO_BTF) and the container /sys"
}

# merge_rules: prints the merged rules directory
merge_rules() {
  _out=$RUN_DIR/rules
  rm -rf "$_out" && mkdir -p "$_out"
  _dirs=$TRACEE_EXTRA_RULES_DIRS
  truthy "${TRACEE_BUILTIN_RULES:-1}" && _dirs="$HOME_DIR/bundles:$_dirs"
  _old_ifs=$IFS; IFS=:
  for _d in $_dirs; do
    IFS=$_old_ifs
    [ -n "$_d" ] || continue
    if [ ! -d "$_d" ]; then log "warning: rules directory $_d does not exist; skipped"; continue; fi
    _n=0
    for _w in "$_d"/*.wasm; do
      [ -e "$_w" ] || continue
      _b=$(basename "$_w")
      [ -e "$_out/$_b" ] && log "rules: $_d/$_b replaces an earlier $_b"
      cp -L "$_w" "$_out/$_b"   # -L: ConfigMap files are symlinks into ..data/
      _n=$((_n + 1))
    done
    log "rules: $_n bundle(s) from $_d"
  done
  IFS=$_old_ifs
  echo "$_out"
}

run_tracee() {
  # a subcommand (list, list-signatures, help, ...): nothing to add
  case "${1:-}" in
    ""|-*) ;;
    *) exec tracee "$@" ;;
  esac
  if [ -n "${TRACEE_ARGS_FILE:-}" ]; then
    [ -r "$TRACEE_ARGS_FILE" ] || { log "error: TRACEE_ARGS_FILE $TRACEE_ARGS_FILE is not readable"; exit 2; }
    # append the file's arguments, then rotate the original ones behind them
    _given=$#
    while IFS= read -r _l || [ -n "$_l" ]; do
      _l=$(printf '%s' "$_l" | tr -d '\r')
      case "$_l" in ''|'#'*) continue ;; esac
      set -- "$@" "$_l"
    done <"$TRACEE_ARGS_FILE"
    while [ "$_given" -gt 0 ]; do set -- "$@" "$1"; shift; _given=$((_given - 1)); done
    log "flags from $TRACEE_ARGS_FILE: $(grep -c -v -e '^#' -e '^[[:space:]]*$' "$TRACEE_ARGS_FILE") argument(s)"
  fi
  if [ -n "${TRACEE_EXTRA_RULES_DIRS:-}" ]; then
    if has_flag --rules-dir -- "$@"; then
      log "TRACEE_EXTRA_RULES_DIRS ignored: --rules-dir was given"
    else
      _rules=$(merge_rules)
      set -- --rules-dir "$_rules" "$@"
    fi
  fi
  if truthy "${CONTAINERS_ENRICHMENT:-0}"; then
    export CONTAINERS_ENRICHMENT=1
    _flag=${TRACEE_CONTAINERS_FLAG:---containers}
    if has_flag "$_flag" --no-containers -E --enrichment -- "$@"; then
      :
    elif tracee --help 2>/dev/null | grep -q -e "$_flag\\b"; then
      set -- "$_flag" "$@"
      log "container enrichment on ($_flag)"
    else
      log "warning: CONTAINERS_ENRICHMENT=1 but this tracee has no $_flag flag; CONTAINERS_ENRICHMENT stays exported for it"
    fi
  fi
  exec tracee "$@"
}

host_os_release
if [ "$#" -eq 0 ]; then set -- tracee; fi
case "$1" in
  -*) run_tracee "$@" ;;
  tracee) shift; run_tracee "$@" ;;
  *) exec "$@" ;;
esac
