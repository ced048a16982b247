/*
 * tracee-tester's triggers: each subcommand makes the real system calls of
 * one behaviour a signature detects, then prints one JSON line describing
 * what it did ({"pid":…,"comm":…,…}) and exits 0; on failure it prints
 * "trigger: <step>: <errno text>" to stderr and exits 1.
 *
 * Safety: nothing here changes the host. Files are created under a
 * directory given on the command line (a temporary one); where a detection
 * needs a system path (/etc/ld.so.preload, /etc/sudoers, /usr/lib/ld*.so,
 * …), the trigger first enters a private mount namespace and mounts an
 * empty tmpfs over the directory, so the path it writes exists only in
 * that namespace and disappears when the process exits. Processes it
 * ptraces, or whose memory it writes, are its own children, and are killed.
 *
 * The container escapes (privileged container) are in escapes.c. Built by
 * host/tester/build.ts (gcc, static), one binary for every trigger.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "trigger.h"

/* A word in our data segment: fork()ed children have it at the same address, which is what gets poked. */
static volatile uint64_t target_word = 0x1111111111111111ull;

void die(const char *step) {
	fprintf(stderr, "trigger: %s: %s\n", step, strerror(errno));
	exit(1);
}

void set_comm(const char *comm) {
	if (prctl(PR_SET_NAME, comm, 0, 0, 0) != 0) die("prctl(PR_SET_NAME)");
}

static void get_comm(char out[17]) {
	memset(out, 0, 17);
	if (prctl(PR_GET_NAME, out, 0, 0, 0) != 0) die("prctl(PR_GET_NAME)");
}

void report(const char *extra) {
	char comm[17];
	get_comm(comm);
	printf("{\"pid\":%d,\"tid\":%ld,\"comm\":\"%s\"%s}\n", getpid(), (long)syscall(SYS_gettid), comm, extra ? extra : "");
	fflush(stdout);
}

void private_mounts(void) {
	if (unshare(CLONE_NEWNS) != 0) die("unshare(CLONE_NEWNS)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("mount --make-rprivate /");
}

void private_dir(const char *dir) {
	private_mounts();
	if (mount("tracee-tester", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") != 0) die("mount tmpfs");
}

void write_file(const char *path, int flags, const void *data, size_t len) {
	int fd = open(path, flags, 0644);
	if (fd < 0) die(path);
	if (len && write(fd, data, len) != (ssize_t)len) die("write");
	if (close(fd) != 0) die("close");
}

void read_file(const char *path) {
	char buf[64];
	int fd = open(path, O_RDONLY);
	if (fd < 0) die(path);
	if (read(fd, buf, sizeof buf) < 0) die("read");
	close(fd);
}

static void mkdirs(const char *path) {
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/') continue;
		*p = 0;
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST) die(tmp);
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST) die(tmp);
}

/* A child that waits to be killed; returns its pid. */
static pid_t idle_child(void) {
	pid_t pid = fork();
	if (pid < 0) die("fork");
	if (pid == 0) {
		for (;;) pause();
	}
	return pid;
}

static void reap(pid_t pid) {
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

char extra[1024];

/* ---- the triggers ------------------------------------------------------------------------ */

/* TRC-102: ptrace(PTRACE_TRACEME). */
static int ptrace_traceme(void) {
	set_comm("trc-102");
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) die("ptrace(PTRACE_TRACEME)");
	report(NULL);
	return 0;
}

/* TRC-103: attach to our own child and write a word of its memory with PTRACE_POKETEXT (or POKEDATA). */
static int ptrace_poke(int data) {
	set_comm("trc-103");
	pid_t child = idle_child();
	if (ptrace(PTRACE_ATTACH, child, NULL, NULL) != 0) die("ptrace(PTRACE_ATTACH)");
	if (waitpid(child, NULL, 0) != child) die("waitpid");
	if (ptrace(data ? PTRACE_POKEDATA : PTRACE_POKETEXT, child, (void *)&target_word, (void *)0x2222222222222222ull) != 0) die("ptrace(POKE)");
	errno = 0;
	long back = ptrace(PTRACE_PEEKDATA, child, (void *)&target_word, NULL);
	if (errno) die("ptrace(PTRACE_PEEKDATA)");
	ptrace(PTRACE_DETACH, child, NULL, NULL);
	reap(child);
	snprintf(extra, sizeof extra, ",\"target\":%d,\"request\":%d,\"written\":%s", child, data ? 5 : 4, back == 0x2222222222222222l ? "true" : "false");
	report(extra);
	return 0;
}

/* TRC-104: an anonymous W+X mapping made R+X (mem_prot_alert MprotectWXToX). */
static int mprotect_wx_to_x(void) {
	set_comm("trc-104");
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) die("mmap(RWX)");
	((unsigned char *)p)[0] = 0xc3; /* ret */
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0) die("mprotect(R-X)");
	munmap(p, 4096);
	snprintf(extra, sizeof extra, ",\"addr\":\"%p\"", p);
	report(extra);
	return 0;
}

/* TRC-105: copy this program into a memfd and execute it from there (fexecve: execveat AT_EMPTY_PATH). */
static int memfd_exec(const char *self) {
	set_comm("trc-105");
	int fd = (int)syscall(SYS_memfd_create, "trc105", 0u);
	if (fd < 0) die("memfd_create");
	int src = open(self, O_RDONLY);
	if (src < 0) die(self);
	char buf[65536];
	ssize_t n;
	while ((n = read(src, buf, sizeof buf)) > 0) {
		if (write(fd, buf, (size_t)n) != n) die("write memfd");
	}
	close(src);
	char *argv[] = {"trc-105", "report", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
	die("execveat");
	return 1;
}

/* TRC-107: run a program with LD_PRELOAD in its environment (libc itself: already loaded, harmless). */
static int ld_preload_env(const char *self) {
	set_comm("trc-107");
	char *argv[] = {"trc-107", "report", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", "LD_PRELOAD=libc.so.6", NULL};
	execve(self, argv, envp);
	die("execve");
	return 1;
}

/* TRC-107 (file): write /etc/ld.so.preload, in a private mount namespace over an empty /etc. */
static int ld_preload_file(void) {
	set_comm("trc-107");
	private_dir("/etc");
	write_file("/etc/ld.so.preload", O_WRONLY | O_CREAT | O_TRUNC, "test\n", 5);
	report(",\"path\":\"/etc/ld.so.preload\"");
	return 0;
}

/* TRC-107 (rename): move a file onto /etc/ld.so.preload, likewise. */
static int ld_preload_rename(void) {
	set_comm("trc-107");
	private_dir("/etc");
	write_file("/etc/preload.new", O_WRONLY | O_CREAT | O_TRUNC, "test\n", 5);
	if (rename("/etc/preload.new", "/etc/ld.so.preload") != 0) die("rename");
	report(",\"path\":\"/etc/ld.so.preload\"");
	return 0;
}

/* TRC-109: read the ASLR setting. */
static int aslr_read(void) {
	set_comm("trc-109");
	read_file("/proc/sys/kernel/randomize_va_space");
	report(",\"path\":\"/proc/sys/kernel/randomize_va_space\"");
	return 0;
}

/* TRC-1012: write (or rename onto) a dynamic loader under /usr/lib, over an empty private /usr/lib. */
static int loader_write(int by_rename) {
	set_comm("trc-1012");
	private_dir("/usr/lib");
	const char *path = "/usr/lib/ld-tracee-tester.so.2";
	if (by_rename) {
		write_file("/usr/lib/tracee-tester.tmp", O_WRONLY | O_CREAT | O_TRUNC, "x", 1);
		if (rename("/usr/lib/tracee-tester.tmp", path) != 0) die("rename");
	} else {
		write_file(path, O_WRONLY | O_CREAT | O_TRUNC, "x", 1);
	}
	snprintf(extra, sizeof extra, ",\"path\":\"%s\"", path);
	report(extra);
	return 0;
}

static const unsigned char ELF_HEADER[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3e, 0, 1, 0, 0, 0};

/* TRC-1015: write an ELF file into a hidden directory under `dir`, then remove it. */
static int hidden_elf(const char *dir) {
	set_comm("trc-1015");
	char hidden[512], path[600];
	snprintf(hidden, sizeof hidden, "%s/.hidden", dir);
	if (mkdir(hidden, 0700) != 0 && errno != EEXIST) die(hidden);
	snprintf(path, sizeof path, "%s/payload", hidden);
	write_file(path, O_WRONLY | O_CREAT | O_TRUNC, ELF_HEADER, sizeof ELF_HEADER);
	unlink(path);
	rmdir(hidden);
	snprintf(extra, sizeof extra, ",\"path\":\"%s\"", path);
	report(extra);
	return 0;
}

/* TRC-1022: write an ELF file (meant to run inside a container). */
static int drop_elf(const char *dir) {
	set_comm("trc-1022");
	char path[600];
	snprintf(path, sizeof path, "%s/dropped", dir);
	write_file(path, O_WRONLY | O_CREAT | O_TRUNC, ELF_HEADER, sizeof ELF_HEADER);
	unlink(path);
	snprintf(extra, sizeof extra, ",\"path\":\"%s\"", path);
	report(extra);
	return 0;
}

/* TRC-106, TRC-1010, TRC-1019 (meant to run inside a container): open <dir>/<name> for writing, then remove it. */
static int open_for_write(const char *comm, const char *dir, const char *name) {
	set_comm(comm);
	char path[600];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	write_file(path, O_WRONLY | O_CREAT | O_TRUNC, "x", 1);
	unlink(path);
	snprintf(extra, sizeof extra, ",\"path\":\"%s\"", path);
	report(extra);
	return 0;
}

/* TRC-1016: a process named like a web server becomes a shell. */
static int web_shell(void) {
	set_comm("nginx");
	report(NULL);
	char *argv[] = {"sh", "-c", "exit 0", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	execve("/bin/sh", argv, envp);
	die("execve /bin/sh");
	return 1;
}

/* TRC-1018: read a Kubernetes key under /etc/kubernetes/pki/, over an empty private /etc. */
static int k8s_cert_read(void) {
	set_comm("trc-1018");
	private_dir("/etc");
	mkdirs("/etc/kubernetes/pki");
	write_file("/etc/kubernetes/pki/ca.key", O_WRONLY | O_CREAT | O_TRUNC, "key\n", 4);
	read_file("/etc/kubernetes/pki/ca.key");
	report(",\"path\":\"/etc/kubernetes/pki/ca.key\"");
	return 0;
}

/* TRC-1023 (read) and TRC-1024 (write): open our child's /proc/<pid>/mem. */
static int proc_mem(int for_write) {
	set_comm(for_write ? "trc-1024" : "trc-1023");
	pid_t child = idle_child();
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", child);
	int fd = open(path, for_write ? O_WRONLY : O_RDONLY);
	if (fd < 0) die(path);
	uint64_t word = 0x3333333333333333ull;
	if (for_write) {
		if (pwrite(fd, &word, sizeof word, (off_t)(uintptr_t)&target_word) != sizeof word) die("pwrite /proc/<pid>/mem");
	} else {
		if (pread(fd, &word, sizeof word, (off_t)(uintptr_t)&target_word) != sizeof word) die("pread /proc/<pid>/mem");
	}
	close(fd);
	reap(child);
	snprintf(extra, sizeof extra, ",\"target\":%d,\"path\":\"%s\"", child, path);
	report(extra);
	return 0;
}

/* TRC-1025: process_vm_writev() into our child. */
static int vm_write(void) {
	set_comm("trc-1025");
	pid_t child = idle_child();
	uint64_t word = 0x4444444444444444ull;
	struct iovec local = {&word, sizeof word};
	struct iovec remote = {(void *)&target_word, sizeof word};
	if (process_vm_writev(child, &local, 1, &remote, 1, 0) != (ssize_t)sizeof word) die("process_vm_writev");
	reap(child);
	snprintf(extra, sizeof extra, ",\"target\":%d", child);
	report(extra);
	return 0;
}

/* Writes `path` in a private, empty copy of `dir` (TRC-1026 rc.local, TRC-1027 crontab, TRC-1028 sudoers). */
static int private_write(const char *comm, const char *dir, const char *path) {
	set_comm(comm);
	private_dir(dir);
	write_file(path, O_WRONLY | O_CREAT | O_TRUNC, "# tracee-tester\n", 16);
	snprintf(extra, sizeof extra, ",\"path\":\"%s\"", path);
	report(extra);
	return 0;
}

/* Renames a file onto `path` in a private, empty copy of `dir` (creating `path`'s directory). */
static int private_rename(const char *comm, const char *dir, const char *subdir, const char *path) {
	set_comm(comm);
	private_dir(dir);
	if (subdir) mkdirs(subdir);
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s/.tracee-tester.tmp", dir);
	write_file(tmp, O_WRONLY | O_CREAT | O_TRUNC, "# tracee-tester\n", 16);
	if (rename(tmp, path) != 0) die("rename");
	snprintf(extra, sizeof extra, ",\"path\":\"%s\"", path);
	report(extra);
	return 0;
}

/* Executes this program under another name (a hard link in `dir`, removed after): TRC-1026 update-rc.d, TRC-1027 crontab. */
static int exec_as(const char *self, const char *dir, const char *name) {
	char comm[16];
	snprintf(comm, sizeof comm, "%s", name);
	set_comm("tracee-tester");
	char link_path[600];
	snprintf(link_path, sizeof link_path, "%s/%s", dir, name);
	unlink(link_path);
	if (link(self, link_path) != 0) die("link");
	pid_t pid = fork();
	if (pid < 0) die("fork");
	if (pid == 0) {
		char *argv[] = {comm, "report", NULL};
		char *envp[] = {"PATH=/usr/bin:/bin", NULL};
		execve(link_path, argv, envp);
		die("execve");
	}
	int status = 0;
	waitpid(pid, &status, 0);
	unlink(link_path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* TRC-101: standard input becomes a TCP connection to a listener of ours on 127.0.0.1 (connect on fd 0, or dup2 onto 0). */
static int stdio_socket(int by_dup) {
	set_comm("trc-101");
	int listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0) die("socket");
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
	if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0) die("bind");
	if (listen(listener, 1) != 0) die("listen");
	socklen_t len = sizeof addr;
	if (getsockname(listener, (struct sockaddr *)&addr, &len) != 0) die("getsockname");
	int fd;
	if (by_dup) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0) die("socket");
		if (connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect");
		fd = dup2(s, 0);
		if (fd != 0) die("dup2");
		close(s);
	} else {
		close(0);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd != 0) die("socket on fd 0");
		if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect");
	}
	close(0);
	close(listener);
	snprintf(extra, sizeof extra, ",\"fd\":0,\"ip\":\"127.0.0.1\",\"port\":%d", ntohs(addr.sin_port));
	report(extra);
	return 0;
}

static int usage(void) {
	fprintf(stderr, "usage: trigger <action> [args]\n");
	return 2;
}

int main(int argc, char **argv) {
	if (argc < 2) return usage();
	const char *a = argv[1];
	const char *arg = argc > 2 ? argv[2] : "/tmp";
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0) die("readlink /proc/self/exe");
	self[n] = 0;

	if (!strcmp(a, "report")) { report(NULL); return 0; }
	if (!strcmp(a, "ptrace-traceme")) return ptrace_traceme();
	if (!strcmp(a, "ptrace-poketext")) return ptrace_poke(0);
	if (!strcmp(a, "ptrace-pokedata")) return ptrace_poke(1);
	if (!strcmp(a, "mprotect-wx-to-x")) return mprotect_wx_to_x();
	if (!strcmp(a, "memfd-exec")) return memfd_exec(self);
	if (!strcmp(a, "ld-preload-env")) return ld_preload_env(self);
	if (!strcmp(a, "ld-preload-file")) return ld_preload_file();
	if (!strcmp(a, "ld-preload-rename")) return ld_preload_rename();
	if (!strcmp(a, "aslr-read")) return aslr_read();
	if (!strcmp(a, "loader-write")) return loader_write(0);
	if (!strcmp(a, "loader-rename")) return loader_write(1);
	if (!strcmp(a, "hidden-elf")) return hidden_elf(arg);
	if (!strcmp(a, "drop-elf")) return drop_elf(arg);
	if (!strcmp(a, "notify-on-release-write")) return open_for_write("trc-106", arg, "notify_on_release");
	if (!strcmp(a, "release-agent-write")) return open_for_write("trc-1010", arg, "release_agent");
	if (!strcmp(a, "docker-sock-write")) return open_for_write("trc-1019", arg, "docker.sock");
	if (!strcmp(a, "web-shell")) return web_shell();
	if (!strcmp(a, "k8s-cert-read")) return k8s_cert_read();
	if (!strcmp(a, "proc-mem-read")) return proc_mem(0);
	if (!strcmp(a, "proc-mem-write")) return proc_mem(1);
	if (!strcmp(a, "vm-write")) return vm_write();
	if (!strcmp(a, "rc-local-write")) return private_write("trc-1026", "/etc", "/etc/rc.local");
	if (!strcmp(a, "rcd-rename")) return private_rename("trc-1026", "/etc", "/etc/init.d", "/etc/init.d/tracee-tester");
	if (!strcmp(a, "update-rc.d")) return exec_as(self, arg, "update-rc.d");
	if (!strcmp(a, "crontab-write")) return private_write("trc-1027", "/etc", "/etc/crontab");
	if (!strcmp(a, "cron-d-rename")) return private_rename("trc-1027", "/etc", "/etc/cron.d", "/etc/cron.d/tracee-tester");
	if (!strcmp(a, "crontab-exec")) return exec_as(self, arg, "crontab");
	if (!strcmp(a, "sudoers-write")) return private_write("trc-1028", "/etc", "/etc/sudoers");
	if (!strcmp(a, "sudoers-d-rename")) return private_rename("trc-1028", "/etc", "/etc/sudoers.d", "/etc/sudoers.d/tracee-tester");
	if (!strcmp(a, "stdio-connect")) return stdio_socket(0);
	if (!strcmp(a, "stdio-dup")) return stdio_socket(1);
	int rc = escape_trigger(a, arg);
	return rc >= 0 ? rc : usage();
}
