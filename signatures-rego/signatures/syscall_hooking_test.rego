package tracee.TRC_1030

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "hooked_syscall", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-1030"
	__rego_metadoc__.eventName == "syscall_hooking"
}

test_match_hooked {
	tracee_match with input as {"eventName": "hooked_syscall", "args": [{"name": "syscall", "value": "read"}]}
}
