package tracee.TRC_1017

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "module_load", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-1017"
	__rego_metadoc__.eventName == "kernel_module_loading"
}

test_match_load {
	tracee_match with input as {"eventName": "module_load", "args": [{"name": "name", "value": "evil"}]}
}

test_no_match_other {
	not tracee_match with input as {"eventName": "init_module", "args": []}
}
