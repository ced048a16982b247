/** TRC-109: the ASLR setting (/proc/sys/kernel/randomize_va_space) was read. */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, openedForRead } from "../sdk";

register(
  new Metadata(
    "TRC-109", "1", "ASLR inspection detected", "aslr_inspection",
    "The ASLR (address space layout randomization) configuration was inspected. ASLR is used by Linux to prevent memory vulnerabilities. An adversary may want to inspect and change the ASLR configuration in order to avoid detection.",
  )
    .prop("Severity", 0)
    .prop("Category", "privilege-escalation")
    .prop("Technique", "Exploitation for Privilege Escalation")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--b21c3b2d-02e6-45b1-980b-e69051040839")
    .prop("external_id", "T1068")
    .select(EventId.security_file_open, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  if (security_file_open.pathname(e).equals("/proc/sys/kernel/randomize_va_space") && openedForRead(e)) emit(e);
}
