/** TRC-1023: another process's memory (/proc/<pid>/mem) was opened for reading. */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, openedForRead } from "../sdk";

register(
  new Metadata(
    "TRC-1023", "1", "Process memory access detected", "proc_mem_access",
    "Process memory access detected. Adversaries may access other processes memory to steal credentials and secrets.",
  )
    .prop("Severity", 3)
    .prop("Category", "credential-access")
    .prop("Technique", "Proc Filesystem")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--3120b9fa-23b8-4500-ae73-09494f607b7d")
    .prop("external_id", "T1003.007")
    .select(EventId.security_file_open, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  // Tracee: /proc/(?:\d.+)/mem$ — a digit and at least one more byte, so /proc/self/mem and /proc/7/mem do not match.
  if (openedForRead(e) && security_file_open.pathname(e).matches("*/proc/#?*/mem")) emit(e);
}
