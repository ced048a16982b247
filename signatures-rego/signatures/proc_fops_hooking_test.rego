package tracee.TRC_1020

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "hooked_proc_fops", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-1020"
	__rego_metadoc__.eventName == "proc_fops_hooking"
}

test_match_hooked {
	tracee_match == {"Hooked proc file operations": "[{\"ModuleOwner\":\"evil\",\"SymbolName\":\"iterate_shared\"}]"} with input as {"eventName": "hooked_proc_fops", "args": [{"name": "hooked_fops_pointers", "value": [{"SymbolName": "iterate_shared", "ModuleOwner": "evil"}]}]}
}

test_no_match_empty {
	not tracee_match with input as {"eventName": "hooked_proc_fops", "args": [{"name": "hooked_fops_pointers", "value": []}]}
}
