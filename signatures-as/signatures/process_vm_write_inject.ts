/** TRC-1025: process_vm_writev() into another process's memory. */
import { Event, Metadata, Origin, register, emit, EventId, process_vm_writev, ArgIndex } from "../sdk";

register(
  new Metadata(
    "TRC-1025", "1", "Code injection detected using process_vm_writev syscall", "process_vm_write_inject",
    "Possible code injection into another process was detected. Code injection is an exploitation technique used to run malicious code, adversaries may use it in order to execute their malware.",
  )
    .prop("Severity", 3)
    .prop("Category", "defense-evasion")
    .prop("Technique", "Process Injection")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--43e7dc91-05b2-474c-b9ac-2ed4fe101f4d")
    .prop("external_id", "T1055")
    .select(EventId.process_vm_writev, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  // The target pid is in the caller's pid namespace, as is processId.
  if (e.hasArg(ArgIndex.process_vm_writev_pid) && <u32>process_vm_writev.pid(e) != e.processId) emit(e);
}
