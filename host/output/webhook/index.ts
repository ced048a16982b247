/**
 * Webhook delivery of findings (docs/outputs.md#webhooks). Public surface only: re-exports.
 */
export { WebhookSender, WebhookConfigError, retryAfter, type WebhookOptions, type WebhookStats, type WebhookCloseReport } from './sender.ts';
export { BoundedQueue } from './queue.ts';
export { idempotencyKey } from './idempotency.ts';
export { RateLimitedLog } from './rate-limited-log.ts';
