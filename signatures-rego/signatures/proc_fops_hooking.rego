# TRC-1020: the kernel reported hooked file operations of /proc.
package tracee.TRC_1020

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-1020",
	"version": "1",
	"name": "File operations hooking on proc filesystem detected",
	"eventName": "proc_fops_hooking",
	"description": "File operations hooking on proc filesystem detected. The proc filesystem is an interface for the running processes as files. This allows programs like `ps` and `top` to check what are the running processes. File operations are the functions defined on a file or directory. File operations hooking includes replacing the default function used to perform a basic task on files and directories like enumerating files. By hooking the file operations of /proc an adversary gains control on certain system function, such as file listing or other basic function performed by the operation system. The adversary may also hijack the execution flow and execute it's own code. File operation hooking is considered a malicious behavior that is performed by rootkits and may indicate that the host's kernel has been compromised. Hidden modules are marked as hidden symbol owners and indicate further malicious activity of an adversary.",
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
	{"source": "tracee", "name": "hooked_proc_fops", "origin": "host"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

# Data holds the hooked symbols as JSON text, as the AssemblyScript version does.
tracee_match = {"Hooked proc file operations": json.marshal(hooked)} {
	input.eventName == "hooked_proc_fops"
	hooked := helpers.get_tracee_argument("hooked_fops_pointers")
	count(hooked) > 0
}
