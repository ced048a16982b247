# TRC-1010: a container process wrote or replaced a cgroup release_agent file.
package tracee.TRC_1010

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-1010",
	"version": "1",
	"name": "Cgroups release agent file modification",
	"eventName": "cgroup_release_agent",
	"description": "An attempt to modify Cgroup release agent file was detected. Cgroups are a Linux kernel feature which limits the resource usage of a set of processes. Adversaries may use this feature for container escaping.",
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
	{"source": "tracee", "name": "security_file_open", "origin": "container"},
	{"source": "tracee", "name": "security_inode_rename", "origin": "container"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

tracee_match {
	input.eventName == "security_file_open"
	helpers.opened_for_write
	helpers.basename(helpers.get_tracee_argument("pathname")) == "release_agent"
}

tracee_match {
	input.eventName == "security_inode_rename"
	helpers.basename(helpers.get_tracee_argument("new_path")) == "release_agent"
}
