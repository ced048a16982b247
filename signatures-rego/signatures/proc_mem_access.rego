# TRC-1023: another process's memory (/proc/<pid>/mem) was opened for reading.
package tracee.TRC_1023

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-1023",
	"version": "1",
	"name": "Process memory access detected",
	"eventName": "proc_mem_access",
	"description": "Process memory access detected. Adversaries may access other processes memory to steal credentials and secrets.",
	"tags": [],
	"properties": {
		"Severity": 3,
		"Category": "credential-access",
		"Technique": "Proc Filesystem",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--3120b9fa-23b8-4500-ae73-09494f607b7d",
		"external_id": "T1003.007",
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
	helpers.opened_for_read
	regex.match(`/proc/(?:\d.+)/mem$`, helpers.get_tracee_argument("pathname"))
}
