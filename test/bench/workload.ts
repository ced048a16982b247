/**
 * A synthetic batch of mixed events, most of them irrelevant to the built-in
 * signatures, shaped like what the kernel side produces.
 */
import { BatchWriter } from '../../host/events/batch-writer.ts';
import { traceeEvent } from '../helpers/events.ts';

export function mixedBatch(count: number): Uint8Array {
  const w = new BatchWriter(1 << 20);
  for (let i = 0; i < count; i++) {
    const r = i % 100;
    const ctx = { processId: 1000 + (i % 50), threadId: 1000 + (i % 50) };
    if (r < 2) w.add(traceeEvent('ptrace', [['request', r === 0 ? 0 : 16], ['pid', 0], ['addr', 0], ['data', 0]], ctx));
    else if (r < 6) {
      const path = r === 2 ? 'memfd:payload' : `/usr/lib/x86_64-linux-gnu/bin/tool-${i % 7}`;
      w.add(traceeEvent('sched_process_exec', [['cmdpath', path], ['pathname', path], ['dev', 2049], ['inode', 1234 + i], ['ctime', 1732000000000000000n.toString()],
        ['inode_mode', 33261], ['argv', ['tool', '--flag', String(i)]], ['prev_comm', 'bash']], ctx));
    } else if (r < 40) w.add(traceeEvent('sched_process_fork', [['parent_tid', 1], ['parent_pid', 1], ['child_tid', i], ['child_pid', i], ['start_time', 5]], ctx));
    else if (r < 75) w.add(traceeEvent('sched_process_exit', [['exit_code', 0], ['process_group_exit', true]], ctx));
    else w.add(traceeEvent('memfd_create', [['name', `buf-${i % 13}`], ['flags', 1]], ctx));
  }
  return w.finish();
}
