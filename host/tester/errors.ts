/** Errors of tracee-tester (code TRC_ERR_TESTER_*), with the step that failed in the message. */
import { TraceeError } from '../errors.ts';

export class TesterError extends TraceeError {}
