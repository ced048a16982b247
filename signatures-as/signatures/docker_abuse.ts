/** TRC-1019: a container process wrote to or connected to a docker.sock. */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, security_socket_connect, openedForWrite, SockAddr } from "../sdk";

register(
  new Metadata(
    "TRC-1019", "1", "Docker socket abuse detected", "docker_abuse",
    "An attempt to abuse the Docker UNIX socket inside a container was detected. docker.sock is the UNIX socket that Docker uses as the entry point to the Docker API. Adversaries may attempt to abuse this socket to compromise the system.",
  )
    .prop("Severity", 2)
    .prop("Category", "privilege-escalation")
    .prop("Technique", "Exploitation for Privilege Escalation")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--b21c3b2d-02e6-45b1-980b-e69051040839")
    .prop("external_id", "T1068")
    .select(EventId.security_file_open, Origin.Container)
    .select(EventId.security_socket_connect, Origin.Container),
  onEvent,
);

function onEvent(e: Event): void {
  if (e.eventId == EventId.security_file_open) {
    if (openedForWrite(e) && security_file_open.pathname(e).endsWith("docker.sock")) emit(e);
  } else {
    let addr = SockAddr.of(security_socket_connect.remote_addr(e));
    if (addr.isUnix && addr.path.endsWith("docker.sock")) emit(e);
  }
}
