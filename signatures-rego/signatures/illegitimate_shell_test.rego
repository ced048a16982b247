package tracee.TRC_1016

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "sched_process_exec", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-1016"
	__rego_metadoc__.eventName == "illegitimate_shell"
}

test_match_apache_bash {
	tracee_match with input as {"eventName": "sched_process_exec", "processName": "bash", "args": [{"name": "prev_comm", "value": "apache2"}]}
}

test_no_match_bash_ls {
	not tracee_match with input as {"eventName": "sched_process_exec", "processName": "ls", "args": [{"name": "prev_comm", "value": "bash"}]}
}
