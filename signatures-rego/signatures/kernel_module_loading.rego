# TRC-1017: a kernel module was loaded.
package tracee.TRC_1017

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-1017",
	"version": "1",
	"name": "Kernel module loading detected",
	"eventName": "kernel_module_loading",
	"description": "Loading of a kernel module was detected. Kernel modules are binaries meant to run in the kernel. Adversaries may try and load kernel modules to extend their capabilities and avoid detection by running in the kernel and not user space.",
	"tags": [],
	"properties": {
		"Severity": 2,
		"Category": "persistence",
		"Technique": "Kernel Modules and Extensions",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--a1b52199-c8c5-438a-9ded-656f1d0888c6",
		"external_id": "T1547.006",
	},
}

eventSelectors := [
	{"source": "tracee", "name": "module_load", "origin": "*"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

tracee_match {
	input.eventName == "module_load"
}
