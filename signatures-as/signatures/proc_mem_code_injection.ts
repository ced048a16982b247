/** TRC-1024: another process's memory (/proc/<pid>/mem) was opened for writing. */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, openedForWrite } from "../sdk";

register(
  new Metadata(
    "TRC-1024", "1", "Code injection detected through /proc/<pid>/mem file", "proc_mem_code_injection",
    "Possible code injection into another process was detected. Code injection is an exploitation technique used to run malicious code, adversaries may use it in order to execute their malware.",
  )
    .prop("Severity", 3)
    .prop("Category", "defense-evasion")
    .prop("Technique", "Proc Memory")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--d201d4cc-214d-4a74-a1ba-b3fa09fd4591")
    .prop("external_id", "T1055.009")
    .select(EventId.security_file_open, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  // Tracee: /proc/(?:\d.+)/mem$ (see proc_mem_access.ts).
  if (openedForWrite(e) && security_file_open.pathname(e).matches("*/proc/#?*/mem")) emit(e);
}
