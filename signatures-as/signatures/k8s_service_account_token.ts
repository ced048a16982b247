/**
 * TRC-108: a container process read a Kubernetes service account token.
 * Tracee ships it disabled (too noisy); so do we: select it with --rules.
 */
import { Event, Metadata, Origin, register, emit, EventId, security_file_open, openedForRead, Bytes } from "../sdk";

register(
  new Metadata(
    "TRC-108", "1", "K8s service account token file read", "k8s_service_account_token",
    "The Kubernetes service account token file was read on your container. This token is used to communicate with the Kubernetes API Server. Adversaries may try to communicate with the API Server to steal information and/or credentials, or even run more containers and laterally extend their grip on the systems.",
  )
    .prop("Severity", 0)
    .prop("Category", "credential-access")
    .prop("Technique", "Exploitation for Credential Access")
    .prop("Kubernetes_Technique", "Container service account")
    .prop("id", "attack-pattern--9c306d8d-cde7-4b4c-b6e8-d0bb16caca36")
    .prop("external_id", "T1212")
    .disabledByDefault()
    .select(EventId.security_file_open, Origin.Container),
  onEvent,
);

function isLegitimate(comm: Bytes): bool {
  return comm.equals("flanneld") || comm.equals("kube-proxy") || comm.equals("etcd") || comm.equals("kube-apiserver")
    || comm.equals("coredns") || comm.equals("kube-controller") || comm.equals("kubectl");
}

function onEvent(e: Event): void {
  if (isLegitimate(e.processName)) return;
  // Tracee: secrets/kubernetes.io/serviceaccount.+token$ (unanchored at the start).
  if (openedForRead(e) && security_file_open.pathname(e).matches("*secrets/kubernetes?io/serviceaccount?*token")) emit(e);
}
