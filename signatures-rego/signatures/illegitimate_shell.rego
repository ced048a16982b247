# TRC-1016: a web server process (by its name before exec) became a shell.
package tracee.TRC_1016

import data.tracee.helpers

__rego_metadoc__ := {
	"id": "TRC-1016",
	"version": "1",
	"name": "Web server spawned a shell",
	"eventName": "illegitimate_shell",
	"description": "A web-server program on your server spawned a shell program. Shell is the linux command-line program, web servers usually don't run shell programs, so this alert might indicate an adversary is exploiting a web server program to gain command execution on the server.",
	"tags": [],
	"properties": {
		"Severity": 2,
		"Category": "initial-access",
		"Technique": "Exploit Public-Facing Application",
		"Kubernetes_Technique": "",
		"id": "attack-pattern--3f886f2a-874f-4333-b794-aa6075009b1c",
		"external_id": "T1190",
	},
}

eventSelectors := [
	{"source": "tracee", "name": "sched_process_exec", "origin": "*"},
]

tracee_selected_events[eventSelector] {
	eventSelector := eventSelectors[_]
}

web_servers := {"nginx", "httpd", "httpd-foregroun", "http-nio", "lighttpd", "apache", "apache2"}

shells := {"ash", "bash", "csh", "ksh", "sh", "tcsh", "zsh", "dash"}

tracee_match {
	input.eventName == "sched_process_exec"
	web_servers[helpers.get_tracee_argument("prev_comm")]
	shells[input.processName]
}
