/** TRC-1010: a container process wrote or replaced a cgroup release_agent file (container escape). */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, security_inode_rename, openedForWrite } from "../sdk";

register(
  new Metadata(
    "TRC-1010", "1", "Cgroups release agent file modification", "cgroup_release_agent",
    "An attempt to modify Cgroup release agent file was detected. Cgroups are a Linux kernel feature which limits the resource usage of a set of processes. Adversaries may use this feature for container escaping.",
  )
    .prop("Severity", 3)
    .prop("Category", "privilege-escalation")
    .prop("Technique", "Escape to Host")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--4a5b7ade-8bb5-4853-84ed-23f262002665")
    .prop("external_id", "T1611")
    .select(EventId.security_file_open, Origin.Container)
    .select(EventId.security_inode_rename, Origin.Container),
  onEvent,
);

function onEvent(e: Event): void {
  if (e.eventId == EventId.security_file_open) {
    if (openedForWrite(e) && security_file_open.pathname(e).basename().equals("release_agent")) emit(e);
  } else if (security_inode_rename.new_path(e).basename().equals("release_agent")) {
    emit(e);
  }
}
