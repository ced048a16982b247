package tracee.TRC_1010

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "security_file_open", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-1010"
	__rego_metadoc__.eventName == "cgroup_release_agent"
}

test_match_write {
	tracee_match with input as {"eventName": "security_file_open", "args": [{"name": "pathname", "value": "/sys/fs/cgroup/x/release_agent"}, {"name": "flags", "value": 1}]}
}

test_no_match_read {
	not tracee_match with input as {"eventName": "security_file_open", "args": [{"name": "pathname", "value": "/sys/fs/cgroup/x/release_agent"}, {"name": "flags", "value": 0}]}
}

test_match_rename {
	tracee_match with input as {"eventName": "security_inode_rename", "args": [{"name": "old_path", "value": "/tmp/a"}, {"name": "new_path", "value": "/sys/fs/cgroup/release_agent"}]}
}
