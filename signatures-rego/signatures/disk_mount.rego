# TRC-1014: a started container mounted a device (/dev/...).
package tracee.TRC_1014

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-1014",
	"version": "1",
	"name": "Container device mount detected",
	"eventName": "disk_mount",
	"description": "Container device filesystem mount detected. A mount of a host device filesystem can be exploited by adversaries to perform container escape.",
	"tags": [],
	"properties": {
		"Severity": 3,
		"Category": "privilege-escalation",
		"Technique": "Escape to Host",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--4a5b7ade-8bb5-4853-84ed-23f262002665",
		"external_id": "T1611",
	},
}

eventSelectors := [
	{"source": "tracee", "name": "security_sb_mount", "origin": "container"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

tracee_match {
	input.eventName == "security_sb_mount"
	input.contextFlags.containerStarted == true
	startswith(helpers.get_tracee_argument("dev_name"), "/dev/")
}
