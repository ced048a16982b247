package tracee.TRC_1024

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "security_file_open", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-1024"
	__rego_metadoc__.eventName == "proc_mem_code_injection"
}

test_match_write {
	tracee_match with input as {"eventName": "security_file_open", "args": [{"name": "pathname", "value": "/proc/1234/mem"}, {"name": "flags", "value": 2}]}
}

test_no_match_read {
	not tracee_match with input as {"eventName": "security_file_open", "args": [{"name": "pathname", "value": "/proc/1234/mem"}, {"name": "flags", "value": 0}]}
}

test_no_match_self {
	not tracee_match with input as {"eventName": "security_file_open", "args": [{"name": "pathname", "value": "/proc/self/mem"}, {"name": "flags", "value": 1}]}
}
