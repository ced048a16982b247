package tracee.TRC_1018

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "security_file_open", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-1018"
	__rego_metadoc__.eventName == "k8s_cert_theft"
}

test_match_read {
	tracee_match with input as {"eventName": "security_file_open", "processName": "cat", "args": [{"name": "pathname", "value": "/etc/kubernetes/pki/ca.key"}, {"name": "flags", "value": 0}]}
}

test_no_match_legit {
	not tracee_match with input as {"eventName": "security_file_open", "processName": "kubelet", "args": [{"name": "pathname", "value": "/etc/kubernetes/pki/ca.key"}, {"name": "flags", "value": 0}]}
}

test_match_rename {
	tracee_match with input as {"eventName": "security_inode_rename", "processName": "kubelet", "args": [{"name": "old_path", "value": "/etc/kubernetes/pki/ca.key"}, {"name": "new_path", "value": "/tmp/k"}]}
}
