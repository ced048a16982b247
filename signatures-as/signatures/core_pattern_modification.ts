/** TRC-1011: a container process opened /proc/sys/kernel/core_pattern for writing (container escape). */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, openedForWrite } from "../sdk";

register(
  new Metadata(
    "TRC-1011", "1", "Core dumps configuration file modification detected", "core_pattern_modification",
    "Modification of the core dump configuration file (core_pattern) detected. Core dumps are usually written to disk when a program crashes. Certain modifications enable container escaping through the kernel core_pattern feature.",
  )
    .prop("Severity", 3)
    .prop("Category", "privilege-escalation")
    .prop("Technique", "Escape to Host")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--4a5b7ade-8bb5-4853-84ed-23f262002665")
    .prop("external_id", "T1611")
    .select(EventId.security_file_open, Origin.Container),
  onEvent,
);

function onEvent(e: Event): void {
  if (security_file_open.pathname(e).endsWith("/proc/sys/kernel/core_pattern") && openedForWrite(e)) emit(e);
}
