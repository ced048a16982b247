/*
 * What the trigger program's files share (trigger.c: the helpers, main and
 * most triggers; escapes.c: the privileged-container escapes).
 */
#pragma once
#include <stddef.h>

/* Prints "trigger: <step>: <errno text>" to stderr and exits 1. */
void die(const char *step);
void set_comm(const char *comm);
/* Prints {"pid":P,"tid":T,"comm":"C"<extra>} (extra: ,"key":value… already JSON) and flushes. */
void report(const char *extra);
/* Enters a private mount namespace (everything below / made private). */
void private_mounts(void);
/* private_mounts(), then an empty tmpfs over `dir` (which must exist). */
void private_dir(const char *dir);
void write_file(const char *path, int flags, const void *data, size_t len);
/* Opens `path` read-only and reads up to 64 bytes. */
void read_file(const char *path);

/* Scratch for report()'s extra JSON. */
extern char extra[1024];

/* Runs escape trigger `action` (escapes.c); returns its exit code, or -1 when `action` is not one. */
int escape_trigger(const char *action, const char *dir);
