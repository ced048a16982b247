/** Runs a command body, printing TraceeErrors as one clear line and setting the exit code. */
import { TraceeError } from '../errors.ts';

export async function runMain(name: string, body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (err) {
    if (err instanceof TraceeError || (err as { code?: string }).code?.startsWith('TRC_ERR')) {
      console.error(`${name}: ${(err as Error).message}`);
      process.exitCode = 2;
    } else {
      console.error(`${name}: internal error:`, err);
      process.exitCode = 70;
    }
  }
}
