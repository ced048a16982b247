# TRC-107: a program started with LD_PRELOAD/LD_LIBRARY_PATH, or /etc/ld.so.preload written or replaced.
package tracee.TRC_107

import data.tracee.helpers
import future.keywords.in

__rego_metadoc__ := {
	"id": "TRC-107",
	"version": "1",
	"name": "LD_PRELOAD code injection detected",
	"eventName": "ld_preload",
	"description": "LD_PRELOAD usage was detected. LD_PRELOAD lets you load your library before any other library, allowing you to hook functions in a process. Adversaries may use this technique to change your applications' behavior or load their own programs.",
	"tags": [],
	"properties": {
		"Severity": 2,
		"Category": "persistence",
		"Technique": "Hijack Execution Flow",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--aedfca76-3b30-4866-b2aa-0f1d7fd1e4b6",
		"external_id": "T1574",
	},
}

eventSelectors := [
	{"source": "tracee", "name": "sched_process_exec", "origin": "*"},
	{"source": "tracee", "name": "security_file_open", "origin": "*"},
	{"source": "tracee", "name": "security_inode_rename", "origin": "*"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

preload_vars := {"LD_PRELOAD=": "LD_PRELOAD", "LD_LIBRARY_PATH=": "LD_LIBRARY_PATH"}

# The first environment variable that sets either one; Data is {NAME: "NAME=value"}.
tracee_match = res {
	input.eventName == "sched_process_exec"
	env := helpers.get_tracee_argument("env")
	first := min({i | some i, var in env; preload_var(var)})
	res := {preload_var(env[first]): env[first]}
}

tracee_match {
	input.eventName == "security_file_open"
	endswith(helpers.get_tracee_argument("pathname"), "/etc/ld.so.preload")
	helpers.opened_for_write
}

tracee_match {
	input.eventName == "security_inode_rename"
	endswith(helpers.get_tracee_argument("new_path"), "/etc/ld.so.preload")
}

preload_var(var) = name {
	some prefix, name in preload_vars
	startswith(var, prefix)
}
