/**
 * A Rego bundle's `executable` in the sandbox. The process tree lives on the
 * main thread and a worker cannot ask it mid-batch (data flows one way), so
 * the main thread asks it while routing: for each record a worker's
 * executable-reading bundles selected, the answer for the record's (host
 * pid, timestamp) — what the in-thread engine's builtin asks — goes with the
 * sub-batch (protocol.ts BatchHost), and the worker answers from it. Sent
 * per distinct pid, and per record only where a pid's executable changes
 * within the sub-batch (an exec).
 */
import type { ProcessLookup } from '../../events/batch-reader.ts';
import type { BatchHost } from './protocol.ts';

type Answers = BatchHost['executables'];

/** Main thread: the answers for one sub-batch, collected while routing it. */
export class ExecutableAnswers {
  private readonly answers: Answers = { byPid: new Map(), others: new Map() };

  add(pid: number, timeNs: bigint, path: string): void {
    const first = this.answers.byPid.get(pid);
    if (first === undefined) this.answers.byPid.set(pid, path);
    else if (first !== path) this.answers.others.set(`${pid}@${timeNs}`, path);
  }

  get empty(): boolean {
    return this.answers.byPid.size === 0;
  }

  /** The payload; postMessage copies it, so it may be cleared after. */
  payload(): Answers {
    return this.answers;
  }

  clear(): void {
    this.answers.byPid.clear();
    this.answers.others.clear();
  }
}

/** Worker: the process lookup its Rego bundles get, answering from the current sub-batch's payload. */
export class BatchExecutables implements Pick<ProcessLookup, 'executableAt'> {
  private answers: Answers | undefined;

  /** The answers for the next sub-batch (none: it has no records of executable-reading bundles). */
  set(answers: Answers | undefined): void {
    this.answers = answers;
  }

  executableAt(pid: number, timeNs: bigint): string | undefined {
    const a = this.answers;
    if (!a) return undefined;
    return (a.others.size ? a.others.get(`${pid}@${timeNs}`) : undefined) ?? a.byPid.get(pid);
  }
}
