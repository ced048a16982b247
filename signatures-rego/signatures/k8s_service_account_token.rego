# TRC-108: the Kubernetes service account token was read in a container.
package tracee.TRC_108

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-108",
	"version": "1",
	"name": "K8s service account token file read",
	"eventName": "k8s_service_account_token",
	"description": "The Kubernetes service account token file was read on your container. This token is used to communicate with the Kubernetes API Server. Adversaries may try to communicate with the API Server to steal information and/or credentials, or even run more containers and laterally extend their grip on the systems.",
	"tags": ["disabled-by-default"],
	"properties": {
		"Severity": 0,
		"Category": "credential-access",
		"Technique": "Exploitation for Credential Access",
		"Kubernetes_Technique": "Container service account",
		"id": "attack-pattern--9c306d8d-cde7-4b4c-b6e8-d0bb16caca36",
		"external_id": "T1212",
	},
}

eventSelectors := [
	{"source": "tracee", "name": "security_file_open", "origin": "container"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

legitimate_processes := {"flanneld", "kube-proxy", "etcd", "kube-apiserver", "coredns", "kube-controller", "kubectl"}

tracee_match {
	input.eventName == "security_file_open"
	not legitimate_processes[input.processName]
	helpers.opened_for_read
	regex.match(`secrets/kubernetes.io/serviceaccount.+token$`, helpers.get_tracee_argument("pathname"))
}
