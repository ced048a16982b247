# Shared helpers for Tracee Rego signatures (Tracee's helpers.rego, for the
# v0.23+ event shape: open flags are integers, byte arrays are base64).
package tracee.helpers

# The value of the event argument named arg_name (undefined when absent).
get_tracee_argument(arg_name) = res {
	arg := input.args[_]
	arg.name == arg_name
	res := arg.value
}

# O_ACCMODE is 3; O_RDONLY 0, O_WRONLY 1, O_RDWR 2. Events recorded with
# parse-arguments carry the flags as names ("O_WRONLY|O_CREAT"): Tracee's
# original string tests apply to those.
default is_file_write(flags) = false

is_file_write(flags) {
	bits.and(flags, 3) == 1
}

is_file_write(flags) {
	bits.and(flags, 3) == 2
}

is_file_write(flags) {
	is_string(flags)
	contains(lower(flags), "o_wronly")
}

is_file_write(flags) {
	is_string(flags)
	contains(lower(flags), "o_rdwr")
}

default is_file_read(flags) = false

is_file_read(flags) {
	bits.and(flags, 3) == 0
}

is_file_read(flags) {
	bits.and(flags, 3) == 2
}

is_file_read(flags) {
	is_string(flags)
	contains(lower(flags), "o_rdonly")
}

is_file_read(flags) {
	is_string(flags)
	contains(lower(flags), "o_rdwr")
}

# A base64 byte array starting with the ELF magic ("\x7fELF").
default is_elf_file(string) = false

is_elf_file(string) {
	decoded_string := base64.decode(string)
	lower(substring(decoded_string, 1, 3)) == "elf"
}

# A path backed by memory rather than a file system (Tracee's IsMemoryPath).
default is_memory_path(path) = false

is_memory_path(path) {
	startswith(path, "memfd:")
}

is_memory_path(path) {
	startswith(path, "/run/shm/")
}

is_memory_path(path) {
	startswith(path, "/dev/shm/")
}

# The last component of a path.
basename(path) = name {
	parts := split(path, "/")
	name := parts[count(parts) - 1]
}

# security_file_open opened the file for writing / reading (flags present).
opened_for_write {
	is_file_write(get_tracee_argument("flags"))
}

opened_for_read {
	is_file_read(get_tracee_argument("flags"))
}
