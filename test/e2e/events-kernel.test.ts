/**
 * One end-to-end test per kernel event: a real C trigger
 * (test/e2e/triggers/*.c) does the real syscalls under a capture, and the
 * records, decoded by host/events/batch-reader.ts, must carry Tracee's
 * arguments: absolute resolved paths, flags, addresses, argv, socket
 * addresses. Needs root and a kernel with BTF, ring buffers, raw_tracepoint,
 * tp_btf, task storage and bpf_find_vma: without them each test fails and
 * says what is missing (none is skipped).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildTriggers } from '../helpers/triggers.ts';
import { CaptureError, KernelCapture, DEFAULT_OBJECT_PATH, unavailableEvents } from '../../host/capture/addon.ts';
import { cgroup2Mount } from '../../host/capture/kernel-scope.ts';
import { eventByName } from '../../host/events/catalogue.ts';
import { stringifyJson } from '../../host/events/event-json.ts';
import { arg, captureDuring, ids, kernelDev, named } from './triggers/capture-run.ts';

const exec = promisify(execFile);
const O_ACCMODE = 3, O_WRONLY = 1, O_LARGEFILE = 0o100000;
const S_IFREG = 0o100000;

async function run(path: string, args: string[] = []): Promise<string[]> {
  const { stdout } = await exec(path, args, { encoding: 'utf8' });
  return stdout.trim().split(/\s+/);
}

describe('kernel events from real triggers', () => {
  let triggers: Record<string, string>;
  let dir: string;

  before(() => {
    triggers = buildTriggers();
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'trc-events-')));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('file events (fs_ops: write, openat, rename, renameat2, unlinkat)', () => {
    let result: Awaited<ReturnType<typeof captureDuring>>;
    let work: string;
    const fsRun = async () => {
      if (result) return result;
      work = join(dir, 'fs');
      mkdirSync(work);
      result = await captureDuring(ids('security_file_open', 'magic_write', 'security_inode_rename', 'security_inode_unlink'),
        async () => [Number((await run(triggers.fs_ops, [work]))[0])]);
      return result;
    };

    it('security_file_open: absolute resolved path, f_flags, dev, inode, ctime and the syscall path', async () => {
      const { events } = await fsRun();
      const opens = named(events, 'security_file_open').filter((e) => arg(e, 'syscall_pathname') === 'a.txt');
      assert.equal(opens.length, 2, `two opens of a.txt: ${stringifyJson(named(events, 'security_file_open').map((e) => e.args))}`);
      const [write, read] = opens;
      assert.equal(arg(write, 'pathname'), `${work}/a.txt`);
      assert.equal((arg(write, 'flags') as number) & O_ACCMODE, O_WRONLY);
      assert.ok((arg(write, 'flags') as number) & O_LARGEFILE, 'O_LARGEFILE, as the kernel sets it');
      assert.equal(write.syscall, 'openat', "glibc's open() is the openat syscall");
      assert.equal(read.syscall, 'openat');
      assert.equal((arg(read, 'flags') as number) & O_ACCMODE, 0);
      assert.equal(arg(read, 'inode'), arg(write, 'inode'));
      assert.equal(arg(write, 'dev'), kernelDev(statSync(work).dev));
      assert.ok(Number(arg(write, 'ctime')) > 1e18, 'ctime in ns since the epoch');
      assert.equal(write.processName, 'fs_ops');
      assert.deepEqual(write.matchedPolicies, [], 'the decoder leaves policy names to the host');
    });

    it('magic_write: the first 20 bytes written at offset 0, with path, dev and inode', async () => {
      const { events } = await fsRun();
      const [mw] = named(events, 'magic_write');
      assert.ok(mw, 'a magic_write record');
      assert.equal(arg(mw, 'pathname'), `${work}/a.txt`);
      assert.deepEqual(Buffer.from(arg(mw, 'bytes') as Uint8Array), Buffer.from('\x7fELF\x02\x01\x01-tracee-magic', 'latin1'));
      const open = named(events, 'security_file_open').find((e) => arg(e, 'syscall_pathname') === 'a.txt')!;
      assert.equal(arg(mw, 'inode'), arg(open, 'inode'));
      assert.equal(arg(mw, 'dev'), arg(open, 'dev'));
      assert.equal(mw.syscall, 'write');
      assert.equal(named(events, 'magic_write').length, 1, 'once: later writes are not at offset 0');
    });

    it('security_inode_rename: old and new paths made absolute against the cwd and a dirfd', async () => {
      const { events } = await fsRun();
      const renames = named(events, 'security_inode_rename').map((e) => [arg(e, 'old_path'), arg(e, 'new_path'), e.syscall]);
      // glibc's renameat2() without flags is the renameat syscall
      assert.deepEqual(renames, [[`${work}/a.txt`, `${work}/b.txt`, 'rename'], [`${work}/b.txt`, `${work}/c.txt`, 'renameat']]);
    });

    it('security_inode_unlink: absolute path, and the inode, dev and ctime of the unlinked file', async () => {
      const { events } = await fsRun();
      const [u] = named(events, 'security_inode_unlink');
      assert.ok(u, 'an unlink record');
      assert.equal(arg(u, 'pathname'), `${work}/c.txt`);
      assert.equal(u.syscall, 'unlinkat');
      const open = named(events, 'security_file_open').find((e) => arg(e, 'syscall_pathname') === 'a.txt')!;
      assert.equal(arg(u, 'inode'), arg(open, 'inode'), 'the renamed file keeps its inode');
      assert.equal(arg(u, 'dev'), arg(open, 'dev'));
      assert.ok(Number(arg(u, 'ctime')) > 1e18);
    });
  });

  it('mem_prot_alert: MmapWX, MprotectWXToX, MprotectToX and MprotectXToWX with addresses and the mapped file', async () => {
    const target = realpathSync('/bin/true');
    let addrs: string[] = [];
    const { events } = await captureDuring(ids('mem_prot_alert'), async () => {
      addrs = await run(triggers.mem_prot, [target]);
      return [Number(addrs[0])];
    });
    const [, wx, rw, file] = addrs.map(BigInt);
    const alerts = named(events, 'mem_prot_alert').map((e) => [arg(e, 'alert'), BigInt(arg(e, 'addr') as number), arg(e, 'prot'), arg(e, 'prev_prot'), e.syscall]);
    assert.deepEqual(alerts, [
      [1, wx, 7, 0, 'mmap'],
      [4, wx, 5, 7, 'mprotect'],
      [2, rw, 5, 3, 'mprotect'],
      [3, file, 7, 5, 'mprotect'],
    ]);
    const fileAlert = named(events, 'mem_prot_alert')[3];
    assert.equal(arg(fileAlert, 'pathname'), target);
    assert.equal(arg(fileAlert, 'inode'), statSync(target).ino);
    assert.equal(arg(fileAlert, 'len'), 4096);
    assert.equal(arg(named(events, 'mem_prot_alert')[0], 'pathname'), undefined, 'anonymous: no path');
  });

  describe('socket events (net_ops)', () => {
    let result: Awaited<ReturnType<typeof captureDuring>>;
    let port = 0;
    let sock = '';
    const netRun = async () => {
      if (result) return result;
      sock = join(dir, 'trc.sock');
      result = await captureDuring(ids('security_socket_connect', 'socket_dup', 'connect'), async () => {
        const { stderr } = await exec(triggers.net_ops, [sock], { encoding: 'utf8' });
        const [pid, p] = stderr.trim().split(' ').map(Number);
        port = p;
        return [pid];
      });
      return result;
    };

    it('security_socket_connect: sockfd, socket type and remote address (AF_INET and AF_UNIX)', async () => {
      const { events } = await netRun();
      const connects = named(events, 'security_socket_connect').filter((e) => e.processName === 'net_ops').map((e) => [arg(e, 'type'), arg(e, 'remote_addr')]);
      assert.deepEqual(connects, [
        [1, { sa_family: 'AF_INET', sin_port: String(port), sin_addr: '127.0.0.1' }],
        [1, { sa_family: 'AF_UNIX', sun_path: sock }],
      ]);
      assert.equal(typeof arg(named(events, 'security_socket_connect')[0], 'sockfd'), 'number');
      assert.equal(named(events, 'security_socket_connect')[0].syscall, 'connect');
    });

    it('socket_dup: dup2 onto stdout and dup of a unix socket, with the peer address', async () => {
      const { events } = await netRun();
      // (before exec, the forked child of node also dup2s its stdio socketpairs)
      const dups = named(events, 'socket_dup').filter((e) => e.processName === 'net_ops');
      assert.equal(dups.length, 2, stringifyJson(dups.map((e) => e.args)));
      assert.equal(arg(dups[0], 'newfd'), 1);
      assert.deepEqual(arg(dups[0], 'remote_addr'), { sa_family: 'AF_INET', sin_port: String(port), sin_addr: '127.0.0.1' });
      assert.equal(dups[0].syscall, 'dup2');
      assert.deepEqual(arg(dups[1], 'remote_addr'), { sa_family: 'AF_UNIX', sun_path: sock });
      assert.equal(dups[1].syscall, 'dup');
    });

    it('connect (syscall event): SockAddr read from user memory with addrlen, and the return value', async () => {
      const { events } = await netRun();
      const calls = named(events, 'connect').filter((e) => e.processName === 'net_ops');
      assert.equal(calls.length, 2);
      assert.deepEqual(arg(calls[0], 'addr'), { sa_family: 'AF_INET', sin_port: String(port), sin_addr: '127.0.0.1' });
      assert.equal(arg(calls[0], 'addrlen'), 16);
      assert.equal(calls[0].returnValue, 0);
      assert.deepEqual(arg(calls[1], 'addr'), { sa_family: 'AF_UNIX', sun_path: sock });
    });
  });

  it('security_sb_mount: dev_name, absolute path, type and flags', async () => {
    const work = join(dir, 'mnt-parent');
    mkdirSync(join(work, 'mnt'), { recursive: true });
    const { events } = await captureDuring(ids('security_sb_mount'), async () => [Number((await run(triggers.mount_ops, ['mnt', work]))[0])]);
    const [m] = named(events, 'security_sb_mount');
    assert.ok(m, 'a mount record');
    assert.deepEqual([arg(m, 'dev_name'), arg(m, 'path'), arg(m, 'type'), arg(m, 'flags')], ['trcnone', `${work}/mnt`, 'tmpfs', 2]);
    assert.equal(m.syscall, 'mount');
  });

  it('cgroup_mkdir and cgroup_rmdir: cgroup id, path and hierarchy id', async () => {
    const root = cgroup2Mount();
    assert.ok(root, 'a cgroup v2 mount (needed to create a cgroup)');
    const name = `trc-e2e-${process.pid}`;
    let ino = 0;
    const { events } = await captureDuring(ids('cgroup_mkdir', 'cgroup_rmdir'), async () => {
      const [pid, i] = await run(triggers.cgroup_ops, [join(root!, name)]);
      ino = Number(i);
      return [Number(pid)];
    });
    const [mk] = named(events, 'cgroup_mkdir');
    const [rm] = named(events, 'cgroup_rmdir');
    assert.ok(mk && rm, JSON.stringify(events.map((e) => e.eventName)));
    for (const e of [mk, rm]) {
      assert.equal(arg(e, 'cgroup_path'), `/${name}`);
      assert.equal(arg(e, 'cgroup_id'), ino, 'the cgroup id is the cgroup v2 directory inode');
      assert.equal(arg(e, 'hierarchy_id'), 0, 'cgroup v2: the default hierarchy');
    }
    assert.equal(mk.syscall, 'mkdir');
  });

  describe('sched_process_exec (exec_env: cwd, stdin from a file, env with LD_PRELOAD)', () => {
    const execRun = async (execEnv: boolean) => {
      const work = join(dir, `exec-${execEnv}`);
      mkdirSync(work, { recursive: true });
      writeFileSync(join(work, 'stdin.txt'), 'input\n');
      return captureDuring(ids('sched_process_exec'), async () => [Number((await run(triggers.exec_env, [work, 'stdin.txt', '/bin/true']))[0])], { execEnv })
        .then((r) => ({ ...r, work }));
    };

    it('has the path, file identity, ELF interpreter, argv, stdin, pwd, prev_comm and no env by default', async () => {
      const { events, work } = await execRun(false);
      // (the trigger itself is exec'd by node's child first: take /bin/true's)
      const [e] = named(events, 'sched_process_exec').filter((x) => x.processName === 'true');
      assert.ok(e, 'an exec record');
      const truePath = realpathSync('/bin/true');
      const st = statSync(truePath);
      assert.equal(arg(e, 'cmdpath'), '/bin/true');
      assert.equal(arg(e, 'pathname'), truePath);
      assert.equal(arg(e, 'inode'), st.ino);
      assert.equal(arg(e, 'dev'), kernelDev(st.dev));
      assert.equal(arg(e, 'inode_mode'), st.mode);
      assert.match(String(arg(e, 'interpreter_pathname')), /^\/.*\/ld-linux-x86-64\.so\.2$/);
      assert.equal(arg(e, 'interpreter_inode'), statSync(String(arg(e, 'interpreter_pathname'))).ino);
      assert.deepEqual(arg(e, 'argv'), ['exec-env-child', 'x']);
      assert.equal(arg(e, 'interp'), '/bin/true');
      assert.equal(arg(e, 'stdin_type'), S_IFREG);
      assert.equal(arg(e, 'stdin_path'), `${work}/stdin.txt`);
      assert.equal(arg(e, 'invoked_from_kernel'), false);
      assert.equal(arg(e, 'prev_comm'), 'exec_env');
      assert.equal(arg(e, 'pwd'), work);
      assert.equal(arg(e, 'env'), undefined, 'env only with the exec-env option');
      assert.equal(e.syscall, 'execve');
      assert.equal(e.processName, 'true');
    });

    it('records env with the exec-env option', async () => {
      const { events } = await execRun(true);
      const [e] = named(events, 'sched_process_exec').filter((x) => x.processName === 'true');
      assert.deepEqual(arg(e, 'env'), ['TRC_E2E=1', 'LD_PRELOAD=/nonexistent/trc.so']);
    });
  });

  it('sched_process_fork and sched_process_exit: child ids, start time, exit code', async () => {
    let parent = 0;
    const { all } = await captureDuring(ids('sched_process_fork', 'sched_process_exit'), async () => {
      parent = Number((await run(triggers.exec_burst, ['1', '/bin/false']))[0]);
      return [parent];
    });
    const [fork] = named(all, 'sched_process_fork').filter((e) => e.hostProcessId === parent);
    assert.ok(fork, 'a fork record from the trigger');
    const child = arg(fork, 'child_pid') as number;
    assert.equal(arg(fork, 'parent_pid'), parent);
    assert.ok(child > 0 && arg(fork, 'child_tid') === child);
    assert.ok(Number(arg(fork, 'start_time')) > 0);
    const exits = named(all, 'sched_process_exit').filter((e) => e.hostProcessId === child);
    assert.equal(exits.length, 1);
    assert.equal(arg(exits[0], 'exit_code'), 1, '/bin/false exits 1');
    assert.equal(arg(exits[0], 'process_group_exit'), true);
  });

  it('process_vm_writev (syscall event): pid, vectors and the bytes written', async () => {
    const { events } = await captureDuring(ids('process_vm_writev'), async () => [Number((await run(triggers.vm_write))[0])]);
    const [e] = named(events, 'process_vm_writev');
    assert.ok(e, 'a process_vm_writev record');
    assert.equal(arg(e, 'pid'), e.hostProcessId);
    assert.equal(e.returnValue, 16);
    assert.equal(arg(e, 'liovcnt'), 1);
  });

  it('generic syscall events: openat and renameat arguments by catalogue type, execve argv at enter', async () => {
    const work = join(dir, 'generic');
    mkdirSync(work);
    const { events } = await captureDuring(ids('openat', 'rename', 'renameat', 'execve'), async () => {
      const pid = Number((await run(triggers.fs_ops, [work]))[0]);
      const child = Number((await run(triggers.exec_env, [work, '/dev/null', '/bin/true']))[0]);
      return [pid, child];
    });
    const [create, openat] = named(events, 'openat').filter((e) => arg(e, 'pathname') === 'a.txt');
    assert.ok(openat, 'two openat of a.txt');
    assert.equal(arg(create, 'flags'), 0o1101, 'O_WRONLY|O_CREAT|O_TRUNC');
    assert.equal(arg(create, 'mode'), 0o644);
    assert.equal(arg(openat, 'dirfd'), -100);
    assert.equal(arg(openat, 'flags'), 0o2000000, 'O_RDONLY|O_CLOEXEC');
    assert.ok(Number(openat.returnValue) >= 0);
    const [ren] = named(events, 'rename');
    assert.deepEqual([arg(ren, 'oldpath'), arg(ren, 'newpath'), ren.returnValue], ['a.txt', 'b.txt', 0]);
    const [ren2] = named(events, 'renameat');
    assert.deepEqual([arg(ren2, 'oldpath'), arg(ren2, 'newdirfd'), arg(ren2, 'newpath')], ['b.txt', -100, 'c.txt']);
    const [ex] = named(events, 'execve').filter((e) => arg(e, 'pathname') === '/bin/true');
    assert.ok(ex, 'execve at enter');
    assert.deepEqual([arg(ex, 'pathname'), arg(ex, 'argv'), arg(ex, 'envp')], ['/bin/true', ['exec-env-child', 'x'], undefined]);
  });

  it('module_load: captured from the module_load tracepoint, or reported unavailable with the reason', () => {
    const id = eventByName('module_load')!.id;
    const reason = unavailableEvents().get(id);
    if (existsSync('/proc/modules')) {
      assert.fail('this kernel has loadable modules: module_load needs a module to load, which this test does not ship');
    }
    assert.match(reason ?? '', /CONFIG_MODULES/, 'module_load unavailable because the kernel has no modules');
    assert.throws(() => KernelCapture.open({ objectPath: DEFAULT_OBJECT_PATH, eventIds: [id] }),
      (err: unknown) => err instanceof CaptureError && err.code === 'TRC_ERR_UNAVAILABLE_EVENT' && /module_load/.test(err.message));
  });

  it('hooked_syscall and hooked_proc_fops are reported unavailable with the reason', () => {
    const unavailable = unavailableEvents();
    for (const name of ['hooked_syscall', 'hooked_proc_fops']) {
      const reason = unavailable.get(eventByName(name)!.id);
      assert.match(reason ?? '', /kernel symbol tables/, `${name}: ${reason}`);
    }
  });
});
