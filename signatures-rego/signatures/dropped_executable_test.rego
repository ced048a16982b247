package tracee.TRC_1022

test_selected_events {
	tracee_selected_events[{"source": "tracee", "name": "magic_write", "origin": _}]
}

test_metadoc {
	__rego_metadoc__.id == "TRC-1022"
	__rego_metadoc__.eventName == "dropped_executable"
}

test_match_elf {
	tracee_match == {"path": "/tmp/uname"} with input as {"eventName": "magic_write", "args": [{"name": "pathname", "value": "/tmp/uname"}, {"name": "bytes", "value": "f0VMRgIBAQAAAAAAAAAAAA=="}]}
}

test_no_match_elf_in_memory {
	not tracee_match with input as {"eventName": "magic_write", "args": [{"name": "pathname", "value": "memfd:x"}, {"name": "bytes", "value": "f0VMRgIBAQAAAAAAAAAAAA=="}]}
}

test_no_match_script {
	not tracee_match with input as {"eventName": "magic_write", "args": [{"name": "pathname", "value": "/tmp/x.sh"}, {"name": "bytes", "value": "IyEvYmluL3No"}]}
}
