/** TRC-1027: cron/anacron configuration written or replaced, or a scheduling command (crontab, at, batch, launchd) run. */
import { Event, Metadata, Origin, register, emit, EventId, sched_process_exec, security_file_open, security_inode_rename, openedForWrite, Bytes } from "../sdk";

register(
  new Metadata(
    "TRC-1027", "1", "Scheduled tasks modification detected", "scheduled_task_mod",
    "The task scheduling functionality or files were modified. Crontab schedules task execution or enables task execution at boot time. Adversaries may add or modify scheduled tasks in order to persist a reboot, thus maintaining malicious execution on the affected host.",
  )
    .prop("Severity", 2)
    .prop("Category", "persistence")
    .prop("Technique", "Cron")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--2acf44aa-542f-4366-b4eb-55ef5747759c")
    .prop("external_id", "T1053.003")
    .select(EventId.security_file_open, Origin.Any)
    .select(EventId.security_inode_rename, Origin.Any)
    .select(EventId.sched_process_exec, Origin.Any),
  onEvent,
);

/**
 * Tracee's cron files (exact) and directories (prefixes). "var/spool/anacron"
 * lacks its leading slash in Tracee too, so absolute paths never match it.
 */
function isCron(path: Bytes): bool {
  return path.equals("/etc/crontab") || path.equals("/etc/anacrontab") || path.equals("/etc/cron.deny") || path.equals("/etc/cron.allow")
    || path.matches("/etc/cron.{hourly,daily,weekly,monthly,d}*")
    || path.startsWith("/var/spool/cron/crontabs") || path.startsWith("var/spool/anacron");
}

function isScheduler(name: Bytes): bool {
  return name.equals("crontab") || name.equals("at") || name.equals("batch") || name.equals("launchd");
}

function onEvent(e: Event): void {
  let id = e.eventId;
  if (id == EventId.security_file_open) {
    if (openedForWrite(e) && isCron(security_file_open.pathname(e))) emit(e);
  } else if (id == EventId.security_inode_rename) {
    if (isCron(security_inode_rename.new_path(e))) emit(e);
  } else if (isScheduler(sched_process_exec.pathname(e).basename())) {
    emit(e);
  }
}
