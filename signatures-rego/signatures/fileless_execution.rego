# TRC-105: a program executed from memory (memfd:, /dev/shm, /run/shm).
package tracee.TRC_105

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-105",
	"version": "1",
	"name": "Fileless execution detected",
	"eventName": "fileless_execution",
	"description": "Fileless execution was detected. Executing a process from memory instead from a file in the filesystem may indicate that an adversary is trying to avoid execution detection.",
	"tags": [],
	"properties": {
		"Severity": 3,
		"Category": "defense-evasion",
		"Technique": "Reflective Code Loading",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--4933e63b-9b77-476e-ab29-761bc5b7d15a",
		"external_id": "T1620",
	},
}

eventSelectors := [
	{"source": "tracee", "name": "sched_process_exec", "origin": "*"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

tracee_match {
	input.eventName == "sched_process_exec"
	helpers.is_memory_path(helpers.get_tracee_argument("pathname"))
}
