# TRC-104: memory protection changed from writable+executable to executable.
package tracee.TRC_104

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-104",
	"version": "1",
	"name": "Dynamic code loading detected",
	"eventName": "dynamic_code_loading",
	"description": "Possible dynamic code loading was detected as the binary's memory is both writable and executable. Writing to an executable allocated memory region could be a technique used by adversaries to run code undetected and without dropping executables.",
	"tags": [],
	"properties": {
		"Severity": 2,
		"Category": "defense-evasion",
		"Technique": "Software Packing",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--deb98323-e13f-4b0c-8d94-175379069062",
		"external_id": "T1027.002",
	},
}

eventSelectors := [
	{"source": "tracee", "name": "mem_prot_alert", "origin": "*"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

tracee_match {
	input.eventName == "mem_prot_alert"
	alert := helpers.get_tracee_argument("alert")
	is_wx_to_x(alert)
}

# MprotectWXToX
is_wx_to_x(4)

is_wx_to_x("MprotectWXToX")
