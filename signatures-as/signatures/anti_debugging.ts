/** TRC-102: a process called ptrace(PTRACE_TRACEME), a common anti-debugging trick. */
import { Event, Metadata, Origin, register, emit, EventId, ptrace, PtraceRequest, ArgIndex } from "../sdk";

register(
  new Metadata(
    "TRC-102", "1", "Anti-Debugging detected", "anti_debugging",
    "A process used anti-debugging techniques to block a debugger. Malware use anti-debugging to stay invisible and inhibit analysis of their behavior.",
  )
    .prop("Severity", 1)
    .prop("Category", "defense-evasion")
    .prop("Technique", "Debugger Evasion")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--e4dc8c01-417f-458d-9ee0-bb0617c1b391")
    .prop("external_id", "T1622")
    .select(EventId.ptrace, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  // An absent request would read as 0, which is PTRACE_TRACEME.
  if (e.hasArg(ArgIndex.ptrace_request) && ptrace.request(e) == PtraceRequest.TRACEME) emit(e);
}
