/** Throughput of a repeated workload: warmed up (V8/wasm tier-up), then run for at least `minMs`. */
export interface Rate {
  eventsPerSec: number;
  nsPerEvent: number;
  /** What the last run returned (findings per batch), so implementations can be checked to agree. */
  findings: number;
}

export function rate(run: () => number, events: number, minMs = 1500): Rate {
  let findings = run();
  for (let i = 0; i < 2; i++) run();
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    findings = run();
    n++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  const perSec = (n * events) / (elapsed / 1000);
  return { eventsPerSec: perSec, nsPerEvent: 1e9 / perSec, findings };
}
