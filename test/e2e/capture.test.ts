/**
 * End to end through the real kernel: the addon loads bpf/build/tracee.bpf.o,
 * a small C trigger calls ptrace(PTRACE_TRACEME), memfd_create and execveat
 * on the memfd, and the raw batches must carry those records. Needs root and
 * a kernel with BTF, ring buffers, raw_tracepoint and tp_btf: without them
 * the test fails and says what is missing (it never skips).
 *
 * Only the few fields needed are read, with DataView at the offsets of
 * host/events/layout.ts (the full decoder is host/events/batch-reader.ts).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BATCH_HEADER_SIZE, BATCH_MAGIC, CONTEXT_SIZE, CTX, FLAT_VERSION } from '../../host/events/layout.ts';
import { eventByName } from '../../host/events/catalogue.ts';
import { DEFAULT_OBJECT_PATH, KernelCapture, missingFeaturesFor } from '../../host/capture/addon.ts';

const PTRACE = eventByName('ptrace')!.id;
const MEMFD_CREATE = eventByName('memfd_create')!.id;
const SCHED_PROCESS_EXEC = eventByName('sched_process_exec')!.id;
const TRIGGER_NAME = 'trctrigger'; // also the comm of its forked child

/* The child is traced by its parent (PTRACE_TRACEME), so its exec stops with
 * SIGTRAP; the parent detaches then. The node test process is never a tracer. */
const TRIGGER_C = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  pid_t child = fork();
  if (child < 0) return 10;
  if (child == 0) {
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(11);
    int fd = memfd_create("trcfl", MFD_CLOEXEC);
    if (fd < 0) _exit(12);
    int src = open("/bin/true", O_RDONLY);
    if (src < 0) _exit(13);
    char buf[65536];
    ssize_t n;
    while ((n = read(src, buf, sizeof buf)) > 0)
      if (write(fd, buf, n) != n) _exit(14);
    char *argv[] = {"trcfl-true", "x", NULL};
    char *envp[] = {NULL};
    syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    _exit(15);
  }
  int st;
  if (waitpid(child, &st, 0) < 0) return 16;
  if (WIFSTOPPED(st)) {
    ptrace(PTRACE_DETACH, child, 0, 0);
    if (waitpid(child, &st, 0) < 0) return 17;
  }
  printf("%d\\n", child);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 18;
}
`;

interface Rec { batch: Uint8Array; view: DataView; off: number }

/** Every record of every batch, after checking each batch header. */
function records(batches: Uint8Array[]): Rec[] {
  const out: Rec[] = [];
  for (const batch of batches) {
    const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    assert.equal(view.getUint32(0, true), BATCH_MAGIC, 'batch magic');
    assert.equal(view.getUint16(4, true), FLAT_VERSION, 'batch version');
    assert.equal(view.getUint16(6, true), BATCH_HEADER_SIZE, 'batch headerSize');
    assert.equal(view.getUint32(12, true), batch.byteLength, 'batch byteLength');
    const count = view.getUint32(8, true);
    let off = BATCH_HEADER_SIZE;
    for (let i = 0; i < count; i++) {
      const size = view.getUint32(off + CTX.size, true);
      assert.ok(size >= CONTEXT_SIZE && size % 8 === 0 && off + size <= batch.byteLength, `record size ${size}`);
      out.push({ batch, view, off });
      off += size;
    }
    assert.equal(off, batch.byteLength, 'records fill the batch');
  }
  return out;
}

const u32 = (r: Rec, field: string) => r.view.getUint32(r.off + CTX[field], true);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

function comm(r: Rec): string {
  const bytes = r.batch.subarray(r.off + CTX.processName, r.off + CTX.processName + 16);
  const nul = bytes.indexOf(0);
  return text(nul < 0 ? bytes : bytes.subarray(0, nul));
}

/** Bytes of argument `index`, or undefined when absent. */
function arg(r: Rec, index: number): Uint8Array | undefined {
  assert.ok(index < r.view.getUint16(r.off + CTX.argsNum, true), 'argument index within argsNum');
  const entry = r.off + CONTEXT_SIZE + 8 * index;
  const offset = r.view.getUint32(entry, true);
  const length = r.view.getUint32(entry + 4, true);
  return offset === 0 ? undefined : r.batch.subarray(r.off + offset, r.off + offset + length);
}

function argIndex(event: string, name: string): number {
  return eventByName(event)!.args.findIndex((a) => a.name === name);
}

function strings(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let at = 4;
  for (let i = 0; i < view.getUint32(0, true); i++) {
    const len = view.getUint32(at, true);
    out.push(text(bytes.subarray(at + 4, at + 4 + len)));
    at += 4 + len;
  }
  return out;
}

describe('kernel capture', () => {
  let dir: string;
  let trigger: string;

  // Checked inside the test, not in a hook: node:test reports a failing
  // before() as a cancelled test, and a missing feature must be a failure.
  function prerequisites() {
    assert.equal(process.geteuid?.(), 0, 'the capture e2e test must run as root (it loads eBPF programs)');
    assert.ok(existsSync(DEFAULT_OBJECT_PATH), `${DEFAULT_OBJECT_PATH} missing: run npm run build`);
    const missing = missingFeaturesFor([PTRACE, MEMFD_CREATE, SCHED_PROCESS_EXEC]);
    assert.deepEqual(missing, [], `kernel features missing:\n${missing.join('\n')}`);
    dir = mkdtempSync(join(tmpdir(), 'trc-capture-'));
    writeFileSync(join(dir, 'trigger.c'), TRIGGER_C);
    trigger = join(dir, TRIGGER_NAME);
    execFileSync('gcc', ['-O1', '-o', trigger, join(dir, 'trigger.c')], { stdio: 'pipe' });
  }

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers ptrace, memfd_create and the memfd exec of a trigger in flat batches', async () => {
    prerequisites();
    const capture = KernelCapture.open({
      objectPath: DEFAULT_OBJECT_PATH, eventIds: [PTRACE, MEMFD_CREATE, SCHED_PROCESS_EXEC],
    });
    const batches: Uint8Array[] = [];
    try {
      capture.start((b) => batches.push(b));
      // Asynchronous spawn: the JS thread must stay free to take batches.
      const { stdout } = await promisify(execFile)(trigger);
      const pid = Number(stdout.trim());
      assert.ok(pid > 0, `trigger printed its child pid: ${stdout}`);

      const mine = (id: number) => records(batches).filter((r) => u32(r, 'eventId') === id && u32(r, 'hostProcessId') === pid);
      const deadline = Date.now() + 5000;
      while (mine(SCHED_PROCESS_EXEC).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      capture.stop();

      const [ptrace] = mine(PTRACE);
      assert.ok(ptrace, `a ptrace record for pid ${pid}`);
      const request = arg(ptrace, argIndex('ptrace', 'request'));
      assert.ok(request);
      assert.equal(new DataView(request.buffer, request.byteOffset, 8).getBigInt64(0, true), 0n, 'PTRACE_TRACEME is request 0');
      assert.equal(comm(ptrace), TRIGGER_NAME);
      assert.equal(u32(ptrace, 'hostThreadId'), pid);
      assert.equal(ptrace.view.getInt32(ptrace.off + CTX.syscall, true), PTRACE);
      assert.equal(ptrace.view.getBigInt64(ptrace.off + CTX.returnValue, true), 0n);

      const [memfd] = mine(MEMFD_CREATE);
      assert.ok(memfd, `a memfd_create record for pid ${pid}`);
      assert.equal(text(arg(memfd, argIndex('memfd_create', 'name'))!), 'trcfl');
      assert.ok(memfd.view.getBigInt64(memfd.off + CTX.returnValue, true) >= 0n, 'memfd_create returned an fd');

      const [exec] = mine(SCHED_PROCESS_EXEC);
      assert.ok(exec, `a sched_process_exec record for pid ${pid}`);
      const pathname = text(arg(exec, argIndex('sched_process_exec', 'pathname'))!);
      assert.ok(pathname.startsWith('memfd:trcfl'), `exec pathname ${JSON.stringify(pathname)} starts with memfd:trcfl`);
      assert.deepEqual(strings(arg(exec, argIndex('sched_process_exec', 'argv'))!), ['trcfl-true', 'x']);

      const stats = capture.stats();
      assert.equal(stats.lostRingBuffer, 0, 'no record lost in the ring buffer');
      assert.equal(stats.lostQueueFull, 0, 'no batch dropped at the JS queue');
      assert.ok(stats.eventsReceived >= 3 && stats.batchesDelivered >= 1, JSON.stringify(stats));
    } finally {
      capture.stop();
    }
  });
});
