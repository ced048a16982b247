/** TRC-1021: a container process opened /proc/kcore (the host's physical memory) for reading. */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, openedForRead } from "../sdk";

register(
  new Metadata(
    "TRC-1021", "1", "Kcore memory file read", "proc_kcore_read",
    "An attempt to read /proc/kcore file was detected. KCore provides a full dump of the physical memory of the system in the core file format. Adversaries may read this file to get all of the host memory and use this information for container escape.",
  )
    .prop("Severity", 2)
    .prop("Category", "privilege-escalation")
    .prop("Technique", "Escape to Host")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--4a5b7ade-8bb5-4853-84ed-23f262002665")
    .prop("external_id", "T1611")
    .select(EventId.security_file_open, Origin.Container),
  onEvent,
);

function onEvent(e: Event): void {
  if (security_file_open.pathname(e).endsWith("/proc/kcore") && openedForRead(e)) emit(e);
}
