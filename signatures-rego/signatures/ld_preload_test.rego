package tracee.TRC_107

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "sched_process_exec", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-107"
	__rego_metadoc__.eventName == "ld_preload"
}

test_match_env_preload {
	tracee_match == {"LD_PRELOAD": "LD_PRELOAD=/tmp/x.so"} with input as {"eventName": "sched_process_exec", "args": [{"name": "env", "value": ["PATH=/bin", "LD_PRELOAD=/tmp/x.so", "LD_LIBRARY_PATH=/tmp"]}]}
}

test_match_env_library_path {
	tracee_match == {"LD_LIBRARY_PATH": "LD_LIBRARY_PATH=/tmp"} with input as {"eventName": "sched_process_exec", "args": [{"name": "env", "value": ["LD_LIBRARY_PATH=/tmp", "LD_PRELOAD=/tmp/x.so"]}]}
}

test_no_match_env_clean {
	not tracee_match with input as {"eventName": "sched_process_exec", "args": [{"name": "env", "value": ["PATH=/bin", "LD_PRELOADX=1"]}]}
}

test_match_open_write {
	tracee_match with input as {"eventName": "security_file_open", "args": [{"name": "pathname", "value": "/etc/ld.so.preload"}, {"name": "flags", "value": 577}]}
}

test_no_match_open_read {
	not tracee_match with input as {"eventName": "security_file_open", "args": [{"name": "pathname", "value": "/etc/ld.so.preload"}, {"name": "flags", "value": 0}]}
}

test_match_rename {
	tracee_match with input as {"eventName": "security_inode_rename", "args": [{"name": "old_path", "value": "/tmp/p"}, {"name": "new_path", "value": "/etc/ld.so.preload"}]}
}
