/** TRC-1031: a container process opened the SysRq configuration or trigger for writing. */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, openedForWrite } from "../sdk";

register(
  new Metadata(
    "TRC-1031", "1", "System request key configuration modification", "system_request_key_mod",
    "An attempt to modify and activate the System Request Key configuration file was detected. The system request key allows immediate input to the kernel through simple key combinations. Adversaries may use this feature to immediately shut down or restart a system. With read access to kernel logs, host related information such as listing tasks and CPU registers may be disclosed and could be used for container escape.",
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
  if (!openedForWrite(e)) return;
  let path = security_file_open.pathname(e);
  if (path.equals("/proc/sys/kernel/sysrq") || path.equals("/proc/sysrq-trigger")) emit(e);
}
