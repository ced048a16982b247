#!/usr/bin/env node
// Entry point installed as `tracee-tester`: runs the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../tracee-tester.ts');
