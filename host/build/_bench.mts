import { readFile } from 'node:fs/promises';
import { BatchWriter } from '../events/batch-writer.ts';
for (const [name, ev] of [['fileless_execution', (i: number) => ({ eventName: 'sched_process_exec', args: [{ name: 'pathname', value: i % 100 ? '/usr/bin/ls' : 'memfd:x' }, { name: 'argv', value: ['ls', '-l'] }] })],
                          ['anti_debugging', (i: number) => ({ eventName: 'ptrace', args: [{ name: 'request', value: i % 100 ? 16 : 0 }, { name: 'pid', value: 1 }] })]] as const) {
  const w = new BatchWriter(1 << 20);
  for (let i = 0; i < 10000; i++) w.add(ev(i));
  const batch = w.finish();
  let n = 0;
  const { instance } = await WebAssembly.instantiate(await readFile(`/tmp/bout/${name}.wasm`), { tracee: { emit_finding: () => { n++; }, log: () => {} }, env: { abort: () => { throw new Error('abort'); } } });
  const ex = instance.exports as any;
  const ptr = ex.tracee_input(batch.length);
  new Uint8Array(ex.memory.buffer).set(batch, ptr);
  for (let i = 0; i < 50; i++) ex.tracee_on_batch(ptr, batch.length);
  const t = process.hrtime.bigint();
  for (let i = 0; i < 100; i++) ex.tracee_on_batch(ptr, batch.length);
  const ns = Number(process.hrtime.bigint() - t);
  console.log(name, `${(1e9 / ns).toFixed(1)} M events/s`);
}
