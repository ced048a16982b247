package tracee.TRC_105

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "sched_process_exec", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-105"
	__rego_metadoc__.eventName == "fileless_execution"
}

test_match_memfd {
	tracee_match with input as {"eventName": "sched_process_exec", "args": [{"name": "pathname", "value": "memfd:payload"}]}
}

test_match_dev_shm {
	tracee_match with input as {"eventName": "sched_process_exec", "args": [{"name": "pathname", "value": "/dev/shm/x"}]}
}

test_no_match_regular {
	not tracee_match with input as {"eventName": "sched_process_exec", "args": [{"name": "pathname", "value": "/usr/bin/ls"}]}
}
