# TRC-1030: the kernel reported a hooked syscall table entry.
package tracee.TRC_1030

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-1030",
	"version": "1",
	"name": "Syscall table hooking detected",
	"eventName": "syscall_hooking",
	"description": "Syscall table hooking detected. Syscalls (system calls) are the interface between user applications and the kernel. By hooking the syscall table an adversary gains control on certain system function, such as file writing and reading or other basic function performed by the operation system. The adversary may also hijack the execution flow and execute it's own code. Syscall table hooking is considered a malicious behavior that is performed by rootkits and may indicate that the host's kernel has been compromised. Hidden modules are marked as hidden symbol owners and indicate further malicious activity of an adversary.",
	"tags": [],
	"properties": {
		"Severity": 3,
		"Category": "defense-evasion",
		"Technique": "Rootkit",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--0f20e3cb-245b-4a61-8a91-2d93f7cb0e9b",
		"external_id": "T1014",
	},
}

eventSelectors := [
	{"source": "tracee", "name": "hooked_syscall", "origin": "*"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

tracee_match {
	input.eventName == "hooked_syscall"
}
