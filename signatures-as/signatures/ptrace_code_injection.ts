/** TRC-103: ptrace(PTRACE_POKETEXT/POKEDATA) writing into another process's memory. */
import { Event, Metadata, Origin, register, emit, EventId, ptrace, PtraceRequest, ArgIndex } from "../sdk";

register(
  new Metadata(
    "TRC-103", "1", "Code injection detected using ptrace", "ptrace_code_injection",
    "Possible code injection into another process was detected. Code injection is an exploitation technique used to run malicious code, adversaries may use it in order to execute their malware.",
  )
    .prop("Severity", 3)
    .prop("Category", "defense-evasion")
    .prop("Technique", "Ptrace System Calls")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--ea016b56-ae0e-47fe-967a-cc0ad51af67f")
    .prop("external_id", "T1055.008")
    .select(EventId.ptrace, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  if (!e.hasArg(ArgIndex.ptrace_request)) return;
  let request = ptrace.request(e);
  if (request == PtraceRequest.POKETEXT || request == PtraceRequest.POKEDATA) emit(e);
}
