/** TRC-1014: a started container mounted a device (/dev/…), e.g. the host's disk. */
import { Event, Metadata, Origin, register, emit, EventId, security_sb_mount } from "../sdk";

register(
  new Metadata(
    "TRC-1014", "1", "Container device mount detected", "disk_mount",
    "Container device filesystem mount detected. A mount of a host device filesystem can be exploited by adversaries to perform container escape.",
  )
    .prop("Severity", 3)
    .prop("Category", "privilege-escalation")
    .prop("Technique", "Escape to Host")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--4a5b7ade-8bb5-4853-84ed-23f262002665")
    .prop("external_id", "T1611")
    .select(EventId.security_sb_mount, Origin.Container),
  onEvent,
);

function onEvent(e: Event): void {
  if (e.isContainer && security_sb_mount.dev_name(e).startsWith("/dev/")) emit(e);
}
