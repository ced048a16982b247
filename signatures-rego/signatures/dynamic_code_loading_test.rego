package tracee.TRC_104

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "mem_prot_alert", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-104"
	__rego_metadoc__.eventName == "dynamic_code_loading"
}

test_match_wx_to_x {
	tracee_match with input as {"eventName": "mem_prot_alert", "args": [{"name": "alert", "value": 4}]}
}

test_no_match_mmap_wx {
	not tracee_match with input as {"eventName": "mem_prot_alert", "args": [{"name": "alert", "value": 1}]}
}
