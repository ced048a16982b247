/** TRC-105: a program executed from memory (memfd, /dev/shm, /run/shm) rather than from a file. */
import { Event, Metadata, Origin, register, emit, EventId, sched_process_exec, isMemoryPath } from "../sdk";

register(
  new Metadata(
    "TRC-105", "1", "Fileless execution detected", "fileless_execution",
    "Fileless execution was detected. Executing a process from memory instead from a file in the filesystem may indicate that an adversary is trying to avoid execution detection.",
  )
    .prop("Severity", 3)
    .prop("Category", "defense-evasion")
    .prop("Technique", "Reflective Code Loading")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--4933e63b-9b77-476e-ab29-761bc5b7d15a")
    .prop("external_id", "T1620")
    .select(EventId.sched_process_exec, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  if (isMemoryPath(sched_process_exec.pathname(e))) emit(e);
}
