/** TRC-1018: Kubernetes TLS material under /etc/kubernetes/pki/ read or moved away by a non-Kubernetes process. */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, security_inode_rename, openedForRead, Bytes } from "../sdk";

register(
  new Metadata(
    "TRC-1018", "1", "K8s TLS certificate theft detected", "k8s_cert_theft",
    "Theft of Kubernetes TLS certificates was detected. TLS certificates are used to establish trust between systems. The Kubernetes certificate is used to to enable secure communication between Kubernetes components, such as kubelet scheduler controller and API Server. An adversary may steal a Kubernetes certificate on a compromised system to impersonate Kubernetes components within the cluster.",
  )
    .prop("Severity", 3)
    .prop("Category", "credential-access")
    .prop("Technique", "Steal Application Access Token")
    .prop("Kubernetes_Technique", "")
    .prop("id", "attack-pattern--890c9858-598c-401d-a4d5-c67ebcdd703a")
    .prop("external_id", "T1528")
    .select(EventId.security_file_open, Origin.Any)
    .select(EventId.security_inode_rename, Origin.Any),
  onEvent,
);

function isLegitimate(comm: Bytes): bool {
  return comm.equals("kube-apiserver") || comm.equals("kubelet") || comm.equals("kube-controller") || comm.equals("etcd");
}

function onEvent(e: Event): void {
  if (e.eventId == EventId.security_file_open) {
    // As in Tracee, the allow list applies to opens only, not to renames.
    if (isLegitimate(e.processName) || !openedForRead(e)) return;
    if (security_file_open.pathname(e).startsWith("/etc/kubernetes/pki/")) emit(e);
  } else if (security_inode_rename.old_path(e).startsWith("/etc/kubernetes/pki/")) {
    emit(e);
  }
}
