/** TRC-1028: the sudoers file or a sudoers.d entry written or replaced. */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, security_inode_rename, openedForWrite, Bytes } from "../sdk";

register(
  new Metadata(
    "TRC-1028", "1", "Sudoers file modification detected", "sudoers_modification",
    "The sudoers file was modified. The sudoers file is a configuration file which controls the permissions and options of the sudo feature. Adversaries may alter the sudoers file to elevate privileges, execute commands as other users or spawn processes with higher privileges.",
  )
    .prop("Severity", 2)
    .prop("Category", "privilege-escalation")
    .prop("Technique", "Sudo and Sudo Caching")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--1365fe3b-0f50-455d-b4da-266ce31c23b0")
    .prop("external_id", "T1548.003")
    .select(EventId.security_file_open, Origin.Any)
    .select(EventId.security_inode_rename, Origin.Any),
  onEvent,
);

function isSudoers(path: Bytes): bool {
  return path.equals("/etc/sudoers") || path.equals("/private/etc/sudoers")
    || path.startsWith("/etc/sudoers.d/") || path.startsWith("/private/etc/sudoers.d/");
}

function onEvent(e: Event): void {
  if (e.eventId == EventId.security_file_open) {
    if (openedForWrite(e) && isSudoers(security_file_open.pathname(e))) emit(e);
  } else if (isSudoers(security_inode_rename.new_path(e))) {
    emit(e);
  }
}
