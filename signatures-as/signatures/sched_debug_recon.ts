/** TRC-1029: a container process read the scheduler's debug file (host CPU and process information). */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, openedForRead } from "../sdk";

register(
  new Metadata(
    "TRC-1029", "1", "sched_debug CPU file was read", "sched_debug_recon",
    "The sched_debug file was read. This file contains information about your CPU and processes. Adversaries may read this file in order to gather that information for their use.",
  )
    .prop("Severity", 1)
    .prop("Category", "discovery")
    .prop("Technique", "Container and Resource Discovery")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--0470e792-32f8-46b0-a351-652bc35e9336")
    .prop("external_id", "T1613")
    .select(EventId.security_file_open, Origin.Container),
  onEvent,
);

function onEvent(e: Event): void {
  if (!openedForRead(e)) return;
  let path = security_file_open.pathname(e);
  if (path.equals("/proc/sched_debug") || path.equals("/sys/kernel/debug/sched/debug")) emit(e);
}
