// Entry of a sandbox worker: loads worker.ts through tsx's CommonJS hook, which
// works in-thread (the ESM hooks would need the main thread's event loop, and
// the main thread may be waiting for this worker synchronously). A worker that
// fails says so in its control block (READY = 2) and wakes the main thread.
const { workerData } = require('node:worker_threads');

try {
  require('tsx/cjs/api').register();
  require('./worker.ts');
} catch (err) {
  const ctrl = new Int32Array(workerData.ctrl);
  workerData.port.postMessage({ fatal: String((err && err.stack) || err) });
  Atomics.store(ctrl, 8 /* CTRL.READY */, 2);
  Atomics.notify(ctrl, 8);
  Atomics.notify(ctrl, 1 /* CTRL.DONE */);
  workerData.port.close();
}
