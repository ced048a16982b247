package tracee.TRC_1014

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "security_sb_mount", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-1014"
	__rego_metadoc__.eventName == "disk_mount"
}

test_match_mount_dev {
	tracee_match with input as {"eventName": "security_sb_mount", "contextFlags": {"containerStarted": true}, "args": [{"name": "dev_name", "value": "/dev/sda1"}]}
}

test_no_match_not_started {
	not tracee_match with input as {"eventName": "security_sb_mount", "contextFlags": {"containerStarted": false}, "args": [{"name": "dev_name", "value": "/dev/sda1"}]}
}

test_no_match_tmpfs {
	not tracee_match with input as {"eventName": "security_sb_mount", "contextFlags": {"containerStarted": true}, "args": [{"name": "dev_name", "value": "tmpfs"}]}
}
