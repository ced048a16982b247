package tracee.TRC_1023

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "security_file_open", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-1023"
	__rego_metadoc__.eventName == "proc_mem_access"
}

test_match_read {
	tracee_match with input as {"eventName": "security_file_open", "args": [{"name": "pathname", "value": "/proc/1234/mem"}, {"name": "flags", "value": 0}]}
}

test_no_match_maps {
	not tracee_match with input as {"eventName": "security_file_open", "args": [{"name": "pathname", "value": "/proc/1234/maps"}, {"name": "flags", "value": 0}]}
}
