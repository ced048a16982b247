/** TRC-1012: the dynamic loader (/lib…/ld*.so*, /usr/lib…/ld*.so*) was written or replaced. */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, security_inode_rename, openedForWrite, Bytes } from "../sdk";

register(
  new Metadata(
    "TRC-1012", "1", "Default dynamic loader modification detected", "default_loader_mod",
    "The default dynamic loader has been modified. The dynamic loader is an executable file loaded to process memory and run before the executable to load dynamic libraries to the process. An attacker might use this technique to hijack the execution context of each new process and bypass defenses.",
  )
    .prop("Severity", 3)
    .prop("Category", "defense-evasion")
    .prop("Technique", "Hijack Execution Flow")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--aedfca76-3b30-4866-b2aa-0f1d7fd1e4b6")
    .prop("external_id", "T1574")
    .select(EventId.security_file_open, Origin.Any)
    .select(EventId.security_inode_rename, Origin.Any),
  onEvent,
);

/** Tracee: ^\/(lib|usr\/lib).*\/ld.*\.so[^\/]* (no end anchor, so anything may follow ".so"). */
function isLoader(path: Bytes): bool {
  return path.matches("{/lib,/usr/lib}*/ld*.so*");
}

function onEvent(e: Event): void {
  if (e.eventId == EventId.security_file_open) {
    if (openedForWrite(e) && isLoader(security_file_open.pathname(e))) emit(e);
  } else if (isLoader(security_inode_rename.new_path(e))) {
    emit(e);
  }
}
