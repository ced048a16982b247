# TRC-102: a process called ptrace(PTRACE_TRACEME), a common anti-debugging trick.
package tracee.TRC_102

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-102",
	"version": "1",
	"name": "Anti-Debugging detected",
	"eventName": "anti_debugging",
	"description": "A process used anti-debugging techniques to block a debugger. Malware use anti-debugging to stay invisible and inhibit analysis of their behavior.",
	"tags": [],
	"properties": {
		"Severity": 1,
		"Category": "defense-evasion",
		"Technique": "Debugger Evasion",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--e4dc8c01-417f-458d-9ee0-bb0617c1b391",
		"external_id": "T1622",
	},
}

eventSelectors := [
	{"source": "tracee", "name": "ptrace", "origin": "*"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

tracee_match {
	input.eventName == "ptrace"
	request := helpers.get_tracee_argument("request")
	is_traceme(request)
}

is_traceme(0)

is_traceme("PTRACE_TRACEME")
