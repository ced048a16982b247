package tracee.TRC_103

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "ptrace", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-103"
	__rego_metadoc__.eventName == "ptrace_code_injection"
}

test_match_poketext {
	tracee_match with input as {"eventName": "ptrace", "args": [{"name": "request", "value": 4}]}
}

test_match_pokedata_parsed {
	tracee_match with input as {"eventName": "ptrace", "args": [{"name": "request", "value": "PTRACE_POKEDATA"}]}
}

test_no_match_peek {
	not tracee_match with input as {"eventName": "ptrace", "args": [{"name": "request", "value": 1}]}
}
