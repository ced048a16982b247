package tracee.helpers

test_get_tracee_argument {
	get_tracee_argument("flags") == 2 with input as {"args": [{"name": "pathname", "value": "/x"}, {"name": "flags", "value": 2}]}
}

test_get_tracee_argument_missing {
	not get_tracee_argument("flags") with input as {"args": [{"name": "pathname", "value": "/x"}]}
}

test_is_file_write {
	is_file_write(1)
	is_file_write(2)
	is_file_write(578) # O_RDWR|O_CREAT|O_TRUNC
	not is_file_write(0)
	not is_file_write(32768) # O_RDONLY|O_LARGEFILE
}

test_is_file_read {
	is_file_read(0)
	is_file_read(2)
	is_file_read(32768)
	not is_file_read(1)
	not is_file_read(577) # O_WRONLY|O_CREAT|O_TRUNC
}

test_flag_names {
	is_file_write("O_WRONLY|O_CREAT|O_TRUNC")
	is_file_write("O_RDWR")
	not is_file_write("O_RDONLY|O_LARGEFILE")
	is_file_read("O_RDONLY")
	is_file_read("O_RDWR|O_CLOEXEC")
	not is_file_read("O_WRONLY")
}

test_is_elf_file {
	is_elf_file("f0VMRgIBAQAAAAAAAAAAAA==")
	not is_elf_file("IyEvYmluL3No") # "#!/bin/sh"
}

test_is_memory_path {
	is_memory_path("memfd:payload")
	is_memory_path("/dev/shm/x")
	is_memory_path("/run/shm/x")
	not is_memory_path("/usr/bin/ls")
}

test_basename {
	basename("/sys/fs/cgroup/release_agent") == "release_agent"
	basename("release_agent") == "release_agent"
}
