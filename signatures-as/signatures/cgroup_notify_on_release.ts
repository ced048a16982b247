/** TRC-106: a container process opened a cgroup notify_on_release file for writing (container escape). */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, openedForWrite } from "../sdk";

register(
  new Metadata(
    "TRC-106", "1", "Cgroups notify_on_release file modification", "cgroup_notify_on_release",
    "An attempt to modify Cgroup notify_on_release file was detected. Cgroups are a Linux kernel feature which limits the resource usage of a set of processes. Adversaries may use this feature for container escaping.",
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
  if (security_file_open.pathname(e).basename().equals("notify_on_release") && openedForWrite(e)) emit(e);
}
