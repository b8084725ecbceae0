/**
 * A real Nest app for tests/nestjs/defaults-and-telemetry.test.ts (a child process, see
 * register.cjs): StaunchModule.forRoot with policy `defaults` and `telemetry` given a real
 * OpenTelemetry MeterProvider, read over HTTP (GET /metrics) as a scrape would. STAUNCH_CASE
 * picks a broken configuration instead, for the errors: 'invalid-default', 'invalid-combination',
 * 'telemetry' (telemetry on, with @staunch/otel hidden by STAUNCH_WITHOUT_OTEL).
 * STAUNCH_REPORT: a file the app writes once closed: a call made then, and what a collection finds.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import {
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  type INestApplication,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { CircuitBreaker, Retry, circuitOf, policiesOf, policyOf } from '@staunch/decorators';
import { StaunchModule, type StaunchModuleOptions } from '@staunch/nestjs';

class UpstreamError extends Error {}

/** The SDK's reader, read on demand: what a Prometheus scrape sees. */
class ScrapeReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}

  /** Each staunch data point collected now: `metric function outcome` → value. */
  async staunch(): Promise<Record<string, number>> {
    const { resourceMetrics } = await this.collect();
    const found: Record<string, number> = {};
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (!metric.descriptor.name.startsWith('staunch.')) continue;
        for (const point of metric.dataPoints as DataPoint<unknown>[]) {
          const { 'code.function.name': fn, 'staunch.outcome': outcome } = point.attributes;
          const id = [metric.descriptor.name, fn, outcome].filter((part) => part !== undefined).join(' ');
          found[id] = point.value as number;
        }
      }
    }
    return found;
  }
}

const reader = new ScrapeReader();
const meterProvider = new MeterProvider({ readers: [reader] });

@Injectable()
export class Upstream {
  calls = 0;

  @Retry({ interval: 1 }) // `times` from the module's defaults, `interval` its own
  async fetch(fail: boolean): Promise<string> {
    this.calls++;
    if (fail) throw new UpstreamError('upstream failed');
    return 'ok';
  }

  @CircuitBreaker({ resetTimeout: 60_000 }) // `threshold` and `on` from the module's defaults
  async guarded(error: Error | undefined): Promise<string> {
    if (error !== undefined) throw error;
    return 'ok';
  }

  @CircuitBreaker({ halfOpenCalls: 1 }) // fine alone; not with a default halfOpenFailureRate
  async gate(): Promise<string> {
    return 'ok';
  }
}

@Controller()
export class AppController {
  constructor(private readonly upstream: Upstream) {}

  @Get('fetch/:outcome')
  fetch(@Param('outcome') outcome: string): Promise<string> {
    return this.upstream.fetch(outcome === 'fail');
  }

  @Get('guarded/:outcome')
  guarded(@Param('outcome') outcome: string): Promise<string> {
    const error = { upstream: new UpstreamError('down'), other: new TypeError('a bug') }[outcome];
    return this.upstream.guarded(error);
  }

  @Get('calls')
  calls(): number {
    return this.upstream.calls;
  }

  @Get('options')
  options(): object {
    const { times, interval } = policyOf(Upstream, 'fetch', 'retry').options;
    const { threshold, resetTimeout } = circuitOf(Upstream, 'guarded').options;
    const described = policiesOf(Upstream, 'fetch')[0]?.options as { times: number };
    return { retry: { times, interval }, circuit: { threshold, resetTimeout }, described: described.times };
  }

  @Get('metrics')
  metrics(): Promise<Record<string, number>> {
    return reader.staunch();
  }
}

/** Once the app has closed (StaunchModule destroyed): one more successful call, then a collection. */
@Injectable()
class AfterClose implements OnApplicationShutdown {
  constructor(private readonly upstream: Upstream) {}

  async onApplicationShutdown(): Promise<void> {
    const report = process.env.STAUNCH_REPORT;
    if (report === undefined) return;
    await this.upstream.fetch(false);
    const successes = policyOf(Upstream, 'fetch', 'retry').statistics.successes;
    writeFileSync(report, JSON.stringify({ successes, metrics: await reader.staunch() }));
  }
}

const defaults: NonNullable<StaunchModuleOptions['defaults']> = {
  retry: { times: 4, interval: 500 },
  circuitBreaker: { threshold: 2, on: UpstreamError },
};
const options: Record<string, () => StaunchModuleOptions> = {
  normal: () => ({ defaults, telemetry: { meterProvider } }),
  'invalid-default': () => ({ defaults: { retry: { times: 1.5 } } }),
  'invalid-combination': () => ({ defaults: { circuitBreaker: { halfOpenCalls: 4, halfOpenFailureRate: 0.5 } } }),
  telemetry: () => ({ telemetry: true }),
};

@Module({
  imports: [StaunchModule.forRoot(options[process.env.STAUNCH_CASE ?? 'normal']?.())],
  controllers: [AppController],
  providers: [Upstream, AfterClose],
})
class AppModule {}

export function createApp(): Promise<INestApplication> {
  // abortOnError false: a failed bootstrap rejects (serve.ts reports it) instead of exiting at once.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- Nest's documented options literal
  return NestFactory.create(AppModule, { logger: false, abortOnError: false });
}
