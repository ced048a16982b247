package tracee.TRC_108

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "security_file_open", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-108"
	__rego_metadoc__.eventName == "k8s_service_account_token"
}

test_match_read {
	tracee_match with input as {"eventName": "security_file_open", "processName": "cat", "args": [{"name": "pathname", "value": "/var/run/secrets/kubernetes.io/serviceaccount/token"}, {"name": "flags", "value": 0}]}
}

test_no_match_legit {
	not tracee_match with input as {"eventName": "security_file_open", "processName": "kubectl", "args": [{"name": "pathname", "value": "/var/run/secrets/kubernetes.io/serviceaccount/token"}, {"name": "flags", "value": 0}]}
}

test_no_match_write {
	not tracee_match with input as {"eventName": "security_file_open", "processName": "cat", "args": [{"name": "pathname", "value": "/var/run/secrets/kubernetes.io/serviceaccount/token"}, {"name": "flags", "value": 1}]}
}
