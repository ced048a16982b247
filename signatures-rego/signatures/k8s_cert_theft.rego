# TRC-1018: Kubernetes TLS material under /etc/kubernetes/pki/ read or moved away.
package tracee.TRC_1018

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-1018",
	"version": "1",
	"name": "K8s TLS certificate theft detected",
	"eventName": "k8s_cert_theft",
	"description": "Theft of Kubernetes TLS certificates was detected. TLS certificates are used to establish trust between systems. The Kubernetes certificate is used to to enable secure communication between Kubernetes components, such as kubelet scheduler controller and API Server. An adversary may steal a Kubernetes certificate on a compromised system to impersonate Kubernetes components within the cluster.",
	"tags": [],
	"properties": {
		"Severity": 3,
		"Category": "credential-access",
		"Technique": "Steal Application Access Token",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--890c9858-598c-401d-a4d5-c67ebcdd703a",
		"external_id": "T1528",
	},
}

eventSelectors := [
	{"source": "tracee", "name": "security_file_open", "origin": "*"},
	{"source": "tracee", "name": "security_inode_rename", "origin": "*"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

legitimate_processes := {"kube-apiserver", "kubelet", "kube-controller", "etcd"}

# As in Tracee, the allow list applies to opens only, not to renames.
tracee_match {
	input.eventName == "security_file_open"
	not legitimate_processes[input.processName]
	helpers.opened_for_read
	startswith(helpers.get_tracee_argument("pathname"), "/etc/kubernetes/pki/")
}

tracee_match {
	input.eventName == "security_inode_rename"
	startswith(helpers.get_tracee_argument("old_path"), "/etc/kubernetes/pki/")
}
