/**
 * TRC-1013: a container connected to the Kubernetes API server whose address
 * it was given in KUBERNETES_SERVICE_HOST when a program started in it.
 *
 * State: container ref → (API server address, the container's cgroup), at
 * most 1024 containers (the oldest entry gives way), dropped when the
 * container's cgroup is removed (cgroup_rmdir, an extra selection Tracee's
 * version does not have: it never forgets a container).
 */
import { Event, Metadata, Origin, register, finding, EventId, sched_process_exec, security_socket_connect, cgroup_rmdir, SockAddr, StateTable, copyBytes, Bytes } from "../sdk";

/** Value: | cgroupId u64 | address length u32 | pad u32 | address (up to 64 bytes) | */
// @ts-ignore: decorator
@inline const CGROUP: usize = 0;
// @ts-ignore: decorator
@inline const ADDR_LEN: usize = 8;
// @ts-ignore: decorator
@inline const ADDR: usize = 16;
// @ts-ignore: decorator
@inline const ADDR_MAX: u32 = 64;
const apiServers = new StateTable(1024, <u32>ADDR + ADDR_MAX);

register(
  new Metadata(
    "TRC-1013", "0.1.0", "Kubernetes API server connection detected", "k8s_api_connection",
    "A connection to the kubernetes API server was detected. The K8S API server is the brain of your K8S cluster, adversaries may try and communicate with the K8S API server to gather information/credentials, or even run more containers and laterally expand their grip on your systems.",
  )
    .tag("container")
    .prop("Severity", 1)
    .prop("MITRE ATT&CK", "Discovery: Cloud Service Discovery")
    .select(EventId.sched_process_exec, Origin.Container)
    .select(EventId.security_socket_connect, Origin.Container)
    .select(EventId.cgroup_rmdir, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  let id = e.eventId;
  if (id == EventId.cgroup_rmdir) {
    apiServers.removeWhereU64(CGROUP, cgroup_rmdir.cgroup_id(e));
    return;
  }
  let ref = e.containerRef;
  if (ref == 0) return;
  if (id == EventId.sched_process_exec) {
    remember(e, ref);
    return;
  }
  let slot = apiServers.get(ref);
  if (slot == 0) return;
  let addr = SockAddr.of(security_socket_connect.remote_addr(e));
  if (!addr.isInternet) return;
  let api = Bytes.wrap(slot + ADDR, load<u32>(slot + ADDR_LEN));
  if (addr.ipText().equals(api)) finding(e).str("ip", api).emit();
}

/** As Tracee: the first variable containing KUBERNETES_SERVICE_HOST=, its text after the first '=', trimmed. */
function remember(e: Event, ref: u32): void {
  let it = sched_process_exec.env(e).iter();
  while (it.next()) {
    let v = it.value;
    if (!v.contains("KUBERNETES_SERVICE_HOST=")) continue;
    let address = v.slice(v.indexOfByte(0x3d) + 1).trim();
    if (address.isEmpty) return;
    let slot = apiServers.put(ref);
    store<u64>(slot + CGROUP, e.cgroupId);
    store<u32>(slot + ADDR_LEN, copyBytes(slot + ADDR, ADDR_MAX, address));
    return;
  }
}
