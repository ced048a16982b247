/** TRC-101: standard input, output or error connected to an internet socket (a reverse shell). */
import { Event, Metadata, Origin, register, finding, EventId, security_socket_connect, socket_dup, SockAddr, ArgIndex, Bytes } from "../sdk";

register(
  new Metadata(
    "TRC-101", "2", "Process standard input/output over socket detected", "stdio_over_socket",
    "A process has its standard input/output redirected to a socket. This behavior is the base of a Reverse Shell attack, which is when an interactive shell being invoked from a target machine back to the attacker's machine, giving it interactive control over the target. Adversaries may use a Reverse Shell to retain control over a compromised target while bypassing security measures like network firewalls.",
  )
    .prop("Severity", 3)
    .prop("Category", "execution")
    .prop("Technique", "Unix Shell")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--a9d4b653-6915-42af-98b2-5758c4ceee56")
    .prop("external_id", "T1059.004")
    .select(EventId.security_socket_connect, Origin.Any)
    .select(EventId.socket_dup, Origin.Any),
  onEvent,
);

function onEvent(e: Event): void {
  let fd: i32;
  let remote: Bytes;
  if (e.eventId == EventId.security_socket_connect) {
    if (!e.hasArg(ArgIndex.security_socket_connect_sockfd)) return;
    fd = security_socket_connect.sockfd(e);
    remote = security_socket_connect.remote_addr(e);
  } else {
    if (!e.hasArg(ArgIndex.socket_dup_newfd)) return;
    fd = socket_dup.newfd(e);
    remote = socket_dup.remote_addr(e);
  }
  if (fd < 0 || fd > 2) return;
  let addr = SockAddr.of(remote);
  // Port 0 (Tracee's legitimate ports "" and "0") is not a connection to anyone.
  if (!addr.isInternet || addr.port == 0) return;
  // Keys in Go's JSON order (sorted), as Tracee prints Data.
  finding(e)
    .int("File descriptor", fd)
    .str("IP address", addr.ipText())
    .str("Port", addr.portText())
    .emit();
}
