/*
 * The container escapes (TRC-1011, 1014, 1021, 1029, 1031): meant to run
 * inside a privileged container (container.ts), since they need /proc/sys
 * writable, unmasked /proc files and CAP_SYS_ADMIN; the same actions on the
 * host must give no finding, as these signatures select container events
 * only.
 *
 * None of them changes a setting, on the host or in the container: the
 * detections fire on the open (security_file_open with its flags) or on the
 * mount request (security_sb_mount, which the kernel checks before it looks
 * at the device), so
 * - kernel settings (core_pattern, sysrq-trigger) are opened for writing
 *   and closed without a byte written;
 * - files are only read (kcore, the scheduler's debug file);
 * - every mount happens in a private mount namespace that ends with the
 *   process, and the disk mount names a device that does not exist.
 *
 * Some kernels lack /proc/kcore (CONFIG_PROC_KCORE) or /proc/sysrq-trigger
 * (CONFIG_MAGIC_SYSRQ). The `-standin` actions make a regular file of that
 * name on an empty tmpfs over /proc, in a private mount namespace, and open
 * it the same way: the same path and flags reach the signature, from a file
 * that is not the kernel's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "trigger.h"

static void report_path(const char *path, int standin) {
	snprintf(extra, sizeof extra, ",\"path\":\"%s\",\"standin\":%s", path, standin ? "true" : "false");
	report(extra);
}

/* Opens `path` for writing and closes it unwritten: the open is what is detected, the setting stays. */
static void open_unwritten(const char *path) {
	int fd = open(path, O_WRONLY);
	if (fd < 0) die(path);
	if (close(fd) != 0) die("close");
}

/* A regular file at `path` (under /proc) on an empty tmpfs over /proc, in a private mount namespace; made
 * with mknod so that no open of its own reaches the signature. */
static void proc_standin(const char *path) {
	private_dir("/proc");
	if (mknod(path, S_IFREG | 0600, 0) != 0) die(path);
}

/* TRC-1011 (core dump pattern), TRC-1021 (the kernel's memory image), TRC-1031 (SysRq trigger): `touch`
 * (read, or write-open) a /proc file, or its stand-in. */
static int proc_file(const char *comm, const char *path, int standin, void (*touch)(const char *)) {
	set_comm(comm);
	if (standin) proc_standin(path);
	touch(path);
	report_path(path, standin);
	return 0;
}

/* TRC-1029: read the scheduler's debug file. Since Linux 5.13 it is in debugfs, which a container does not
 * have mounted: if it is not visible, debugfs is mounted in a private mount namespace first (no options:
 * a debugfs the host has mounted keeps its own). Older kernels have /proc/sched_debug. */
static int sched_debug_read(void) {
	set_comm("trc-1029");
	const char *path = "/sys/kernel/debug/sched/debug";
	int mounted = 0;
	if (access(path, F_OK) != 0) {
		if (access("/proc/sched_debug", F_OK) == 0) {
			path = "/proc/sched_debug";
		} else {
			private_mounts();
			if (mount("debugfs", "/sys/kernel/debug", "debugfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) die("mount debugfs on /sys/kernel/debug");
			mounted = 1;
		}
	}
	read_file(path);
	snprintf(extra, sizeof extra, ",\"path\":\"%s\",\"mountedDebugfs\":%s", path, mounted ? "true" : "false");
	report(extra);
	return 0;
}

/* A registered file system type that needs a block device (ext4 if there is one), from /proc/filesystems:
 * naming one the kernel does not have would make it load a module. */
static void block_fs_type(char out[32]) {
	FILE *f = fopen("/proc/filesystems", "r");
	if (!f) die("/proc/filesystems");
	char line[128], first[32] = "";
	out[0] = 0;
	while (fgets(line, sizeof line, f)) {
		char name[32];
		if (!strncmp(line, "nodev", 5) || sscanf(line, " %31s", name) != 1) continue;
		if (!first[0]) snprintf(first, sizeof first, "%s", name);
		if (!strcmp(name, "ext4")) snprintf(out, 32, "%s", name);
	}
	fclose(f);
	if (!out[0]) snprintf(out, 32, "%s", first);
	if (!out[0]) {
		errno = ENODEV;
		die("no block-device file system in /proc/filesystems");
	}
}

/* TRC-1014: ask the kernel to mount a device read-only, as `mount /dev/sdX /mnt` would, in a private mount
 * namespace. The device does not exist, so the mount fails (ENOENT) after the LSM hook has seen it; nothing
 * is mounted. Refuses to go on if something exists at that path, so a real device is never mounted. */
static int disk_mount(const char *dir) {
	set_comm("trc-1014");
	const char *dev = "/dev/tracee-tester-disk";
	struct stat st;
	if (lstat(dev, &st) == 0) {
		errno = EEXIST;
		die("refusing to mount /dev/tracee-tester-disk, which exists");
	}
	char target[600];
	snprintf(target, sizeof target, "%s/mnt", dir);
	if (mkdir(target, 0700) != 0 && errno != EEXIST) die(target);
	char type[32];
	block_fs_type(type);
	private_mounts();
	int rc = mount(dev, target, type, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SILENT, NULL);
	int err = errno;
	if (rc == 0) {
		umount2(target, MNT_DETACH);
		errno = EEXIST;
		die("mount of /dev/tracee-tester-disk succeeded (it was unmounted)");
	}
	if (err != ENOENT) {
		errno = err;
		die("mount /dev/tracee-tester-disk (expected ENOENT)");
	}
	rmdir(target);
	snprintf(extra, sizeof extra, ",\"device\":\"%s\",\"path\":\"%s\",\"type\":\"%s\",\"errno\":\"ENOENT\"", dev, target, type);
	report(extra);
	return 0;
}

int escape_trigger(const char *a, const char *dir) {
	if (!strcmp(a, "core-pattern-open")) return proc_file("trc-1011", "/proc/sys/kernel/core_pattern", 0, open_unwritten);
	if (!strcmp(a, "disk-mount")) return disk_mount(dir);
	if (!strcmp(a, "kcore-read")) return proc_file("trc-1021", "/proc/kcore", 0, read_file);
	if (!strcmp(a, "kcore-read-standin")) return proc_file("trc-1021", "/proc/kcore", 1, read_file);
	if (!strcmp(a, "sched-debug-read")) return sched_debug_read();
	if (!strcmp(a, "sysrq-open")) return proc_file("trc-1031", "/proc/sysrq-trigger", 0, open_unwritten);
	if (!strcmp(a, "sysrq-open-standin")) return proc_file("trc-1031", "/proc/sysrq-trigger", 1, open_unwritten);
	return -1;
}
