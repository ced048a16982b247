/**
 * Prometheus metrics with Tracee's names (so Tracee's Grafana dashboard keeps
 * working) plus tracee-ts's own. Nothing here is incremented per event:
 * every metric reads the stages' own counters when scraped (prom-client's
 * collect callbacks), so the hot path pays nothing.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Cumulative counters the stages keep; each source is optional (tracee-rules has no capture). */
export interface MetricSources {
  capture?: () => { eventsReceived: number; lostRingBuffer: number; lostQueueFull: number; errors?: number };
  /** Events dropped in user space by policy filters. */
  filtered?: () => number;
  engine: () => {
    stats: { events: number; findings: number; bundleErrors: number; badBatches: number };
    bundles: Array<{ id: string; severity: number | string; findings: number; disabled: string | null }>;
  };
  decodeErrors?: () => number;
  webhook?: () => { sent: number; failed: number; retried: number; dropped: number; queueDepth: number };
  enrichmentErrors?: () => number;
}

/** The names this registry exports (the dashboard test checks against them). */
export const METRIC_NAMES = [
  'tracee_ebpf_events_total', 'tracee_ebpf_events_filtered', 'tracee_ebpf_lostevents_total', 'tracee_ebpf_errors_total',
  'tracee_rules_events_total', 'tracee_rules_detections_total', 'tracee_rules_signatures_total',
  'tracee_ts_detections_total', 'tracee_ts_lost_events_total', 'tracee_ts_bundle_errors_total', 'tracee_ts_bundles_disabled',
  'tracee_ts_bad_batches_total', 'tracee_ts_webhook_sent_total', 'tracee_ts_webhook_failed_total', 'tracee_ts_webhook_retried_total',
  'tracee_ts_webhook_dropped_total', 'tracee_ts_queue_depth', 'tracee_ts_enrichment_errors_total',
] as const;

type Name = (typeof METRIC_NAMES)[number];

export function createRegistry(sources: MetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tracee_ts_' });
  const counter = (name: Name, help: string, read: () => number) => {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } });
  };
  const capture = () => sources.capture?.() ?? { eventsReceived: 0, lostRingBuffer: 0, lostQueueFull: 0, errors: 0 };
  const engine = () => sources.engine();
  const webhook = () => sources.webhook?.() ?? { sent: 0, failed: 0, retried: 0, dropped: 0, queueDepth: 0 };

  counter('tracee_ebpf_events_total', 'Events received from the kernel', () => capture().eventsReceived);
  counter('tracee_ebpf_events_filtered', 'Events dropped in user space by policy filters', () => sources.filtered?.() ?? 0);
  counter('tracee_ebpf_lostevents_total', 'Events lost, all causes', () => {
    const c = capture();
    return c.lostRingBuffer + c.lostQueueFull + (sources.decodeErrors?.() ?? 0);
  });
  counter('tracee_ebpf_errors_total', 'Capture errors', () => capture().errors ?? 0);
  counter('tracee_rules_events_total', 'Events processed by the signature engine', () => engine().stats.events);
  counter('tracee_rules_detections_total', 'Detections', () => engine().stats.findings);
  new Gauge({ name: 'tracee_rules_signatures_total', help: 'Loaded signatures', registers: [registry],
    collect() { this.set(engine().bundles.length); } });

  new Counter({ name: 'tracee_ts_detections_total', help: 'Detections by signature', labelNames: ['signature_id', 'severity'], registers: [registry],
    collect() {
      this.reset();
      for (const b of engine().bundles) this.inc({ signature_id: b.id, severity: String(b.severity) }, b.findings);
    } });
  new Counter({ name: 'tracee_ts_lost_events_total', help: 'Events lost by cause', labelNames: ['cause'], registers: [registry],
    collect() {
      this.reset();
      const c = capture();
      this.inc({ cause: 'ring_buffer_full' }, c.lostRingBuffer);
      this.inc({ cause: 'addon_queue_full' }, c.lostQueueFull);
      this.inc({ cause: 'decode_failure' }, sources.decodeErrors?.() ?? 0);
    } });
  counter('tracee_ts_bundle_errors_total', 'Signature bundles that trapped or misbehaved', () => engine().stats.bundleErrors);
  new Gauge({ name: 'tracee_ts_bundles_disabled', help: 'Signature bundles disabled after an error', registers: [registry],
    collect() { this.set(engine().bundles.filter((b) => b.disabled !== null).length); } });
  counter('tracee_ts_bad_batches_total', 'Malformed batches dropped by the engine', () => engine().stats.badBatches);
  counter('tracee_ts_webhook_sent_total', 'Findings delivered to the webhook', () => webhook().sent);
  counter('tracee_ts_webhook_failed_total', 'Findings the webhook did not accept after retries', () => webhook().failed);
  counter('tracee_ts_webhook_retried_total', 'Webhook retries', () => webhook().retried);
  counter('tracee_ts_webhook_dropped_total', 'Findings dropped because the webhook queue was full', () => webhook().dropped);
  new Gauge({ name: 'tracee_ts_queue_depth', help: 'Items waiting in a queue', labelNames: ['queue'], registers: [registry],
    collect() { this.set({ queue: 'webhook' }, webhook().queueDepth); } });
  counter('tracee_ts_enrichment_errors_total', 'Failed enrichment lookups', () => sources.enrichmentErrors?.() ?? 0);
  return registry;
}
