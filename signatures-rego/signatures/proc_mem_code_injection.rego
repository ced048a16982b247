# TRC-1024: another process's memory (/proc/<pid>/mem) was opened for writing.
package tracee.TRC_1024

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-1024",
	"version": "1",
	"name": "Code injection detected through /proc/<pid>/mem file",
	"eventName": "proc_mem_code_injection",
	"description": "Possible code injection into another process was detected. Code injection is an exploitation technique used to run malicious code, adversaries may use it in order to execute their malware.",
	"tags": [],
	"properties": {
		"Severity": 3,
		"Category": "defense-evasion",
		"Technique": "Proc Memory",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--d201d4cc-214d-4a74-a1ba-b3fa09fd4591",
		"external_id": "T1055.009",
	},
}

eventSelectors := [
	{"source": "tracee", "name": "security_file_open", "origin": "*"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

tracee_match {
	input.eventName == "security_file_open"
	helpers.opened_for_write
	regex.match(`/proc/(?:\d.+)/mem$`, helpers.get_tracee_argument("pathname"))
}
