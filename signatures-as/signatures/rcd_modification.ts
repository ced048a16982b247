/** TRC-1026: rc scripts (rc.local, rc?.d, init.d) written or replaced, or update-rc.d run. */
import { Event, Metadata, Origin, register, emit, EventId, sched_process_exec, security_file_open, security_inode_rename, openedForWrite, Bytes } from "../sdk";

register(
  new Metadata(
    "TRC-1026", "1", "Rcd modification detected", "rcd_modification",
    "The rcd files were modified. rcd files are scripts executed on boot and runlevel switch. Those scripts are responsible for service control in runlevel switch. Adversaries may add or modify rcd files in order to persist a reboot, thus maintaining malicious execution on the affected host.",
  )
    .prop("Severity", 2)
    .prop("Category", "persistence")
    .prop("Technique", "RC Scripts")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--dca670cf-eeec-438f-8185-fd959d9ef211")
    .prop("external_id", "T1037.004")
    .select(EventId.security_file_open, Origin.Any)
    .select(EventId.security_inode_rename, Origin.Any)
    .select(EventId.sched_process_exec, Origin.Any),
  onEvent,
);

/** Tracee's rcd files (exact) and directories (prefixes, without a trailing slash). */
function isRcd(path: Bytes): bool {
  return path.equals("/etc/rc.local") || path.equals("/etc/init.d/rc.local")
    || path.matches("/etc/rc{1,2,3,4,5,6,s}.d*") || path.startsWith("/etc/init.d")
    || path.startsWith("/etc/rc.d/rc.local") || path.startsWith("/etc/rc.d/init.d") || path.startsWith("/etc/rc.d");
}

function onEvent(e: Event): void {
  let id = e.eventId;
  if (id == EventId.security_file_open) {
    if (openedForWrite(e) && isRcd(security_file_open.pathname(e))) emit(e);
  } else if (id == EventId.security_inode_rename) {
    if (isRcd(security_inode_rename.new_path(e))) emit(e);
  } else if (sched_process_exec.pathname(e).basename().equals("update-rc.d")) {
    emit(e);
  }
}
