import type { Attributes, BatchObservableResult, Counter, Histogram, Meter, Observable } from '@opentelemetry/api';
import { livePolicies } from '@staunch/core';
import { attributeNames, policyAttributes } from './attributes.js';
import { circuitStates, outcomesByKind } from './outcomes.js';

/**
 * The instruments' names, stated once: under `staunch.`, units in UCUM annotations (OTel's naming rules).
 *
 * @example
 * import { metricNames } from '@staunch/otel';
 *
 * console.log(metricNames.circuitState); // 'staunch.circuit.state'
 */
export const metricNames = Object.freeze({
  calls: 'staunch.calls',
  attempts: 'staunch.attempts',
  circuitState: 'staunch.circuit.state',
  transitions: 'staunch.circuit.transitions',
  bulkheadActive: 'staunch.bulkhead.active',
  bulkheadQueued: 'staunch.bulkhead.queued',
  rateLimitQueued: 'staunch.rate_limit.queued',
  callDuration: 'staunch.call.duration',
});

/**
 * The bucket boundaries (s) advised for `staunch.call.duration`: the semantic
 * conventions' HTTP duration buckets, plus 30 s and 60 s for calls that wait
 * between attempts.
 *
 * @example
 * import { durationBuckets } from '@staunch/otel';
 *
 * console.log(durationBuckets.at(-1)); // 60
 */
export const durationBuckets: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60,
]);

/**
 * staunch's instruments on one meter. Every number but the transitions is
 * read from the statistics the policies keep anyway, by observable
 * instruments at collection time: a call pays nothing for them.
 */
export class PolicyMetrics {
  readonly #meter: Meter;
  readonly #keys: boolean;
  readonly #observables: Observable[];
  readonly #calls: Observable;
  readonly #attempts: Observable;
  readonly #circuitState: Observable;
  readonly #active: Observable;
  readonly #queued: Observable;
  readonly #rateLimitQueued: Observable;
  /** Counted from the circuits' `stateChange` events (a circuit keeps no count of them). */
  readonly transitions: Counter;
  /** Recorded from the attempt policies' `success` and `giveUp` events, only with `durations` on. */
  readonly durations: Histogram | undefined;

  constructor(meter: Meter, keys: boolean, durations: boolean) {
    this.#meter = meter;
    this.#keys = keys;
    this.#calls = meter.createObservableCounter(metricNames.calls, {
      unit: '{call}',
      description: 'Calls through staunch policies, by outcome.',
    });
    this.#attempts = meter.createObservableCounter(metricNames.attempts, {
      unit: '{attempt}',
      description: 'Attempts started by retry, poll, asyncBackoff, asyncRetry, timeout and hedge policies.',
    });
    this.#circuitState = meter.createObservableGauge(metricNames.circuitState, {
      unit: '{circuit}',
      description: 'Circuits in each state: 1 or 0 for one circuit, a count for a per-instance or per-key scope.',
    });
    this.#active = meter.createObservableUpDownCounter(metricNames.bulkheadActive, {
      unit: '{call}',
      description: 'Calls running inside bulkheads.',
    });
    this.#queued = meter.createObservableUpDownCounter(metricNames.bulkheadQueued, {
      unit: '{call}',
      description: 'Calls waiting for a bulkhead slot.',
    });
    this.#rateLimitQueued = meter.createObservableUpDownCounter(metricNames.rateLimitQueued, {
      unit: '{call}',
      description: 'Calls waiting for a rate limiter permit.',
    });
    this.transitions = meter.createCounter(metricNames.transitions, {
      unit: '{transition}',
      description: 'Circuit state changes, by previous and new state.',
    });
    this.durations = durations
      ? meter.createHistogram(metricNames.callDuration, {
          unit: 's',
          description:
            'Duration of calls through staunch attempt policies (retry, poll, asyncBackoff, asyncRetry, timeout), by outcome.',
          advice: { explicitBucketBoundaries: [...durationBuckets] },
        })
      : undefined;
    this.#observables = [
      this.#calls,
      this.#attempts,
      this.#circuitState,
      this.#active,
      this.#queued,
      this.#rateLimitQueued,
    ];
    meter.addBatchObservableCallback(this.#observe, this.#observables);
  }

  /** Stops reporting: the SDK calls nothing of staunch any more. */
  stop(): void {
    this.#meter.removeBatchObservableCallback(this.#observe, this.#observables);
  }

  // One pass over the registry per collection. Rows with the same attributes (two unnamed standalone
  // retry policies, say) are summed: an instrument must not report one attribute set twice.
  readonly #observe = (result: BatchObservableResult): void => {
    const sums = new Sums();
    for (const row of livePolicies({ each: this.#keys })) {
      const base = policyAttributes(row, this.#keys);
      const statistics = row.statistics;
      const outcomes = outcomesByKind[row.kind];
      if (outcomes !== undefined) {
        for (const outcome in outcomes) {
          const count = (outcomes[outcome] as (s: typeof statistics) => number)(statistics);
          sums.add(this.#calls, { ...base, [attributeNames.outcome]: outcome }, count);
        }
      }
      if (row.kind === 'circuitBreaker') {
        for (const state of circuitStates) {
          sums.add(this.#circuitState, { ...base, [attributeNames.circuitState]: state }, row.states[state] ?? 0);
        }
      } else if (row.kind === 'bulkhead') {
        sums.add(this.#active, base, statistics.active ?? 0);
        sums.add(this.#queued, base, statistics.queued ?? 0);
      } else if (row.kind === 'rateLimit') {
        sums.add(this.#rateLimitQueued, base, statistics.queued ?? 0);
      } else if (statistics.attempts !== undefined) {
        sums.add(this.#attempts, base, statistics.attempts);
      }
    }
    sums.report(result);
  };
}

class Sums {
  readonly #byInstrument = new Map<Observable, Map<string, { attributes: Attributes; value: number }>>();

  add(instrument: Observable, attributes: Attributes, value: number): void {
    let series = this.#byInstrument.get(instrument);
    if (series === undefined) {
      series = new Map<string, { attributes: Attributes; value: number }>();
      this.#byInstrument.set(instrument, series);
    }
    const id = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)));
    const known = series.get(id);
    if (known === undefined) series.set(id, { attributes, value });
    else known.value += value;
  }

  report(result: BatchObservableResult): void {
    for (const [instrument, series] of this.#byInstrument) {
      for (const { attributes, value } of series.values()) result.observe(instrument, value, attributes);
    }
  }
}
