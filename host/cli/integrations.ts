/**
 * Flags and set-up shared by `tracee` and `tracee-rules`: metrics and health
 * endpoint, webhook delivery, Go-template output, trusted bundle keys.
 */
import type { Command } from 'commander';
import type { Server } from 'node:http';
import type { DecodeOptions } from '../events/batch-reader.ts';
import type { Finding } from '../engine/finding.ts';
import { createRegistry, type MetricSources } from '../metrics/registry.ts';
import { parseListenAddress, serveMetrics } from '../metrics/server.ts';
import { loadTrustedKey, type TrustedKey } from '../engine/signing.ts';
import { loadTemplateFile, renderFinding, TemplateExecError } from '../output/template/index.ts';
import { WebhookSender } from '../output/webhook/index.ts';
import { InvalidArgumentError } from '../errors.ts';
import { collect, type WebhookDestination } from './options.ts';

export interface IntegrationFlags {
  metrics?: boolean;
  metricsAddr: string;
  webhook?: string;
  webhookTemplate?: string;
  webhookContentType?: string;
  trustedKeys: string[];
}

export function addIntegrationOptions(cmd: Command, defaultMetricsAddr: string): Command {
  return cmd
    .option('--metrics', 'serve Prometheus metrics and /healthz')
    .option('--metrics-addr <[host]:port>', 'metrics and health address', defaultMetricsAddr)
    .option('--webhook <url>', 'also POST each detection to this URL (retries, bounded queue)')
    .option('--webhook-template <file>', 'Go template for the webhook body (default: rawjson)')
    .option('--webhook-content-type <type>', 'Content-Type of webhook requests', 'application/json')
    .option('--trusted-keys <file>', 'load only bundles signed by these Ed25519 public keys (repeatable, comma-separated)', collect, []);
}

/** The trusted keys, or undefined (with a one-time warning) when bundles are not verified. */
export function trustedKeys(flags: IntegrationFlags, program: string): TrustedKey[] | undefined {
  if (flags.trustedKeys.length === 0) {
    console.error(`${program}: warning: bundles are not verified (use --trusted-keys to require signed bundles)`);
    return undefined;
  }
  return flags.trustedKeys.map((file) => {
    try {
      return loadTrustedKey(file);
    } catch (err) {
      throw new InvalidArgumentError(`--trusted-keys: ${(err as Error).message}`);
    }
  });
}

/** From --webhook/--webhook-template/--webhook-content-type, or tracee's `-o webhook:URL?...` destination. */
export function createWebhook(flags: IntegrationFlags, decodeOptions: DecodeOptions, program: string, destination?: WebhookDestination): WebhookSender | undefined {
  if (flags.webhook && destination) throw new InvalidArgumentError('give the webhook once: --webhook or -o webhook:URL');
  const target: WebhookDestination | undefined = destination
    ?? (flags.webhook ? { url: flags.webhook, template: flags.webhookTemplate, contentType: flags.webhookContentType } : undefined);
  if (!target) {
    if (flags.webhookTemplate) throw new InvalidArgumentError('--webhook-template needs --webhook URL');
    return undefined;
  }
  return new WebhookSender({
    url: target.url, contentType: target.contentType ?? 'application/json', decodeOptions, timeoutMs: target.timeoutMs,
    template: target.template ? loadTemplateFile(target.template) : undefined,
    log: (line: string) => console.error(`${program}: ${line}`),
  });
}

export async function startMetrics(flags: IntegrationFlags, sources: MetricSources, healthy: () => boolean): Promise<Server | undefined> {
  if (!flags.metrics) return undefined;
  return serveMetrics(createRegistry(sources), parseListenAddress(flags.metricsAddr), healthy);
}

/** Renders findings with a Go template file; a finding the template fails on is reported and skipped. */
export function templatePrinter(file: string, decodeOptions: DecodeOptions, write: (t: string) => void, program: string) {
  const template = loadTemplateFile(file);
  return (findings: readonly Finding[]) => {
    for (const f of findings) {
      try {
        write(renderFinding(template, f, decodeOptions));
      } catch (err) {
        if (!(err instanceof TemplateExecError)) throw err;
        console.error(`${program}: ${err.message}`);
      }
    }
  };
}

/** Flushes the webhook queue within a deadline and reports what could not be sent. */
export async function closeWebhook(webhook: WebhookSender | undefined, program: string): Promise<void> {
  if (!webhook) return;
  const report = await webhook.close(5000);
  console.error(`${program}: webhook: ${report.sent} sent, ${report.failed} failed, ${report.retried} retries, ${report.dropped} dropped (queue full), ${report.unsent} not sent at exit`);
}
