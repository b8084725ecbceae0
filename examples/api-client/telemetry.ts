/**
 * The API client's telemetry, as a service would run it: an OpenTelemetry MeterProvider whose
 * reader is the Prometheus exporter, served on a free port of 127.0.0.1, and staunch instrumented
 * into it with `@staunch/otel`. `scrape()` fetches `/metrics` over real HTTP, as Prometheus would.
 */
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { instrument } from '@staunch/otel';
import { untracked, type ActivityTracker } from '../support/activity';

/** A running metrics endpoint. */
export interface MetricsEndpoint {
  /** `http://127.0.0.1:<port>/metrics`. */
  readonly url: string;
  /** The exposition text, fetched over HTTP. */
  scrape(): Promise<string>;
  /** Stops instrumenting and serving. */
  stop(): Promise<void>;
}

/** Starts the exporter's endpoint on a free loopback port and instruments staunch into it. */
export async function startMetricsEndpoint(activity: ActivityTracker = untracked): Promise<MetricsEndpoint> {
  // The exporter's own server takes a fixed port; its request handler, served here, takes any.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  const telemetry = instrument({ meterProvider });
  const server = createServer((request, response) => {
    exporter.getMetricsRequestHandler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  let scrapes = 0;
  return {
    url,
    scrape: () => fetchText(url, `scrape ${++scrapes}`, activity),
    async stop() {
      telemetry.stop();
      await close(server);
      await meterProvider.shutdown();
    },
  };
}

/**
 * The series of a scrape worth showing after the API client's story, for `ApiClient.getUser`: the
 * circuit's state, calls by outcome (retried, rejected by the open circuit), attempts and the
 * circuit's transitions. Zero counts are left out; the attributes every line shares
 * (`code_function_name`, `staunch_policy_scope`, `staunch_policy_name`, `otel_scope_name`) too.
 */
export function linesThatMatter(scraped: string): string[] {
  const shared = /,?(code_function_name|staunch_policy_scope|staunch_policy_name|otel_scope_name)="[^"]*"/g;
  return scraped
    .split('\n')
    .filter((line) => line.startsWith('staunch_') && line.includes('code_function_name="ApiClient.getUser"'))
    .filter((line) => !line.endsWith(' 0'))
    .map((line) => line.replace(shared, '').replace('{,', '{'));
}

function fetchText(url: string, id: string, activity: ActivityTracker): Promise<string> {
  activity.start(id);
  return new Promise<string>((resolve, reject) => {
    get(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
      response.on('error', reject);
    }).on('error', reject);
  }).finally(() => activity.finish(id));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
