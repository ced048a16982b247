#!/usr/bin/env node
// Entry point installed as `tracee-rules`: runs the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../tracee-rules.ts');
