/** TRC-1016: a web server process (by its name before exec) became a shell. */
import { Event, Metadata, Origin, register, emit, EventId, sched_process_exec, Bytes } from "../sdk";

register(
  new Metadata(
    "TRC-1016", "1", "Web server spawned a shell", "illegitimate_shell",
    "A web-server program on your server spawned a shell program. Shell is the linux command-line program, web servers usually don't run shell programs, so this alert might indicate an adversary is exploiting a web server program to gain command execution on the server.",
  )
    .prop("Severity", 2)
    .prop("Category", "initial-access")
    .prop("Technique", "Exploit Public-Facing Application")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--3f886f2a-874f-4333-b794-aa6075009b1c")
    .prop("external_id", "T1190")
    .select(EventId.sched_process_exec, Origin.Any),
  onEvent,
);

function isWebServer(comm: Bytes): bool {
  return comm.equals("nginx") || comm.equals("httpd") || comm.equals("httpd-foregroun") || comm.equals("http-nio")
    || comm.equals("lighttpd") || comm.equals("apache") || comm.equals("apache2");
}

function isShell(comm: Bytes): bool {
  return comm.equals("ash") || comm.equals("bash") || comm.equals("csh") || comm.equals("ksh")
    || comm.equals("sh") || comm.equals("tcsh") || comm.equals("zsh") || comm.equals("dash");
}

function onEvent(e: Event): void {
  if (isWebServer(sched_process_exec.prev_comm(e)) && isShell(e.processName)) emit(e);
}
