# TRC-1022: an ELF executable was written in a container.
package tracee.TRC_1022

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-1022",
	"version": "1",
	"name": "New executable dropped",
	"eventName": "dropped_executable",
	"description": "An Executable file was dropped in the system during runtime. Container images are usually built with all binaries needed inside. A dropped binary may indicate that an adversary infiltrated your container.",
	"tags": [],
	"properties": {
		"Severity": 2,
		"Category": "defense-evasion",
		"Technique": "Masquerading",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--42e8de7b-37b2-4258-905a-6897815e58e0",
		"external_id": "T1036",
	},
}

eventSelectors := [
	{"source": "tracee", "name": "magic_write", "origin": "container"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

tracee_match = {"path": path} {
	input.eventName == "magic_write"
	helpers.is_elf_file(helpers.get_tracee_argument("bytes"))
	path := helpers.get_tracee_argument("pathname")
	not helpers.is_memory_path(path)
}
