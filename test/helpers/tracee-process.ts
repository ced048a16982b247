/**
 * Runs the real `tracee` CLI as a child process and collects the JSON
 * findings it prints, for end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FindingJson } from '../../host/output/finding-json.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export class TraceeProcess {
  readonly findings: FindingJson[] = [];
  stderr = '';
  private child: ChildProcess;

  private constructor(args: string[]) {
    this.child = spawn(process.execPath, [join(ROOT, 'host/cli/bin/tracee.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.trim()) this.findings.push(JSON.parse(line));
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; });
  }

  /** Starts tracee and resolves once it reports that capture is running; rejects with its stderr if it exits. */
  static async start(args: string[], timeoutMs = 30_000): Promise<TraceeProcess> {
    const t = new TraceeProcess(args);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tracee did not start within ${timeoutMs} ms:\n${t.stderr}`)), timeoutMs);
      t.child.stderr!.on('data', () => {
        if (t.stderr.includes('capturing')) { clearTimeout(timer); resolve(); }
      });
      t.child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`tracee exited with ${code} before capturing:\n${t.stderr}`)); });
    });
    return t;
  }

  /** Waits until `predicate` holds for the findings so far, or fails after `timeoutMs`. */
  async waitFor(predicate: (fs: FindingJson[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.findings)) {
      if (Date.now() > deadline) throw new Error(`expected findings did not arrive within ${timeoutMs} ms; got ${JSON.stringify(this.findings.map((f) => [f.SigMetadata.ID, f.Context.processId, f.Context.processName]))}\nstderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until stderr matches `pattern`, or fails after `timeoutMs`. */
  async waitForStderr(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stderr)) {
      if (Date.now() > deadline) throw new Error(`stderr did not match ${pattern} within ${timeoutMs} ms:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  /** Sends SIGINT and resolves with the exit code once tracee has stopped. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.child.kill('SIGINT');
    return exited;
  }
}
