package tracee.TRC_102

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "ptrace", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-102"
	__rego_metadoc__.eventName == "anti_debugging"
}

test_match_traceme {
	tracee_match with input as {"eventName": "ptrace", "args": [{"name": "request", "value": 0}, {"name": "pid", "value": 0}]}
}

test_match_traceme_parsed {
	tracee_match with input as {"eventName": "ptrace", "args": [{"name": "request", "value": "PTRACE_TRACEME"}]}
}

test_no_match_attach {
	not tracee_match with input as {"eventName": "ptrace", "args": [{"name": "request", "value": 16}]}
}

test_no_match_no_request {
	not tracee_match with input as {"eventName": "ptrace", "args": [{"name": "pid", "value": 1}]}
}
