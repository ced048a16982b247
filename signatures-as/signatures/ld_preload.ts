/** TRC-107: a program started with LD_PRELOAD/LD_LIBRARY_PATH, or /etc/ld.so.preload written or replaced. */
import { Event, Metadata, Origin, register, emit, finding, EventId, sched_process_exec, security_file_open, security_inode_rename, openedForWrite } from "../sdk";

register(
  new Metadata(
    "TRC-107", "1", "LD_PRELOAD code injection detected", "ld_preload",
    "LD_PRELOAD usage was detected. LD_PRELOAD lets you load your library before any other library, allowing you to hook functions in a process. Adversaries may use this technique to change your applications' behavior or load their own programs.",
  )
    .prop("Severity", 2)
    .prop("Category", "persistence")
    .prop("Technique", "Hijack Execution Flow")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--aedfca76-3b30-4866-b2aa-0f1d7fd1e4b6")
    .prop("external_id", "T1574")
    .select(EventId.sched_process_exec, Origin.Any)
    .select(EventId.security_file_open, Origin.Any)
    .select(EventId.security_inode_rename, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  let id = e.eventId;
  if (id == EventId.sched_process_exec) {
    // The first variable that sets either one; Data is {NAME: "NAME=value"}.
    let it = sched_process_exec.env(e).iter();
    while (it.next()) {
      let v = it.value;
      if (v.startsWith("LD_PRELOAD=")) { finding(e).str("LD_PRELOAD", v).emit(); return; }
      if (v.startsWith("LD_LIBRARY_PATH=")) { finding(e).str("LD_LIBRARY_PATH", v).emit(); return; }
    }
  } else if (id == EventId.security_file_open) {
    if (security_file_open.pathname(e).endsWith("/etc/ld.so.preload") && openedForWrite(e)) emit(e);
  } else if (security_inode_rename.new_path(e).endsWith("/etc/ld.so.preload")) {
    emit(e);
  }
}
