# TRC-103: ptrace(PTRACE_POKETEXT/POKEDATA) into another process.
package tracee.TRC_103

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-103",
	"version": "1",
	"name": "Code injection detected using ptrace",
	"eventName": "ptrace_code_injection",
	"description": "Possible code injection into another process was detected. Code injection is an exploitation technique used to run malicious code, adversaries may use it in order to execute their malware.",
	"tags": [],
	"properties": {
		"Severity": 3,
		"Category": "defense-evasion",
		"Technique": "Ptrace System Calls",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--ea016b56-ae0e-47fe-967a-cc0ad51af67f",
		"external_id": "T1055.008",
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
	poke_requests[request]
}

# PTRACE_POKETEXT, PTRACE_POKEDATA (numbers, or names with parse-arguments)
poke_requests := {4, 5, "PTRACE_POKETEXT", "PTRACE_POKEDATA"}
