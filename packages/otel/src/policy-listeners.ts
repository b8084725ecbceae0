import { trace, type Attributes } from '@opentelemetry/api';
import { TimeoutError, livePolicies, livePolicyOf, watchPolicies, type LivePolicy } from '@staunch/core';
import { attributeNames, errorType, policyAttributes } from './attributes.js';

/** What the listeners report to: span events, and the transitions counter. */
export interface ListenerTargets {
  /** Adds span events to the active span. */
  readonly spanEvents: boolean;
  /** Counts a circuit's change of state (undefined: metrics are off). */
  readonly transition: ((attributes: Attributes) => void) | undefined;
  /** Records a call's duration in seconds (undefined: durations are off). */
  readonly duration: ((seconds: number, attributes: Attributes) => void) | undefined;
  /** Durations carry the `staunch.key` of keyed policies. */
  readonly keys: boolean;
  /** Called before each report: lets `instrument()` notice an SDK registered since (opentelemetry-js#3622). */
  readonly beforeReport: () => void;
}

/** The events of a policy, as the listeners see them: any kind, any payload. */
interface Listenable {
  on(type: string, listener: (event: never) => void): () => void;
}

/** The attributes of a policy's events, resolved late: a class-scoped method learns its class name after decoration. */
type AttributesOf = () => Attributes;

/**
 * What to listen to on each kind of policy: event type → report. A new kind is one entry here.
 * Events of the hot path (`attempt`, `success`) are never listened to here: listening costs calls nothing
 * (`durations` alone listens to `success` and `giveUp`, below).
 */
const listenersByKind: Readonly<
  Record<string, Readonly<Record<string, (event: never, attributes: AttributesOf, targets: ListenerTargets) => void>>>
> = Object.freeze({
  retry: attemptListeners(),
  poll: attemptListeners(),
  asyncBackoff: attemptListeners(),
  asyncRetry: attemptListeners(),
  timeout: attemptListeners(),
  circuitBreaker: {
    rejected: (event: { readonly error: unknown }, attributes: AttributesOf, targets: ListenerTargets) => {
      spanEvent(targets, 'staunch.circuit.rejected', attributes, {
        [attributeNames.errorType]: errorType(event.error),
      });
    },
    stateChange: (
      event: { readonly from: string; readonly to: string; readonly reason: string },
      attributes: AttributesOf,
      targets: ListenerTargets,
    ) => {
      const change = {
        [attributeNames.previousState]: event.from,
        [attributeNames.circuitState]: event.to,
      };
      targets.transition?.({ ...attributes(), ...change });
      spanEvent(targets, 'staunch.circuit.state_change', attributes, {
        ...change,
        [attributeNames.reason]: event.reason,
      });
    },
  },
  bulkhead: {
    rejected: (event: { readonly reason: string }, attributes: AttributesOf, targets: ListenerTargets) => {
      spanEvent(targets, 'staunch.bulkhead.rejected', attributes, { [attributeNames.reason]: event.reason });
    },
  },
  hedge: {
    hedge: (
      event: { readonly attempt: number; readonly trigger: string },
      attributes: AttributesOf,
      targets: ListenerTargets,
    ) => {
      spanEvent(targets, 'staunch.hedge', attributes, {
        [attributeNames.attempt]: event.attempt,
        [attributeNames.reason]: event.trigger,
      });
    },
  },
  rateLimit: {
    rejected: (event: { readonly reason: string }, attributes: AttributesOf, targets: ListenerTargets) => {
      spanEvent(targets, 'staunch.rate_limit.rejected', attributes, { [attributeNames.reason]: event.reason });
    },
  },
  fallback: {
    fallback: (event: { readonly error: unknown }, attributes: AttributesOf, targets: ListenerTargets) => {
      spanEvent(targets, 'staunch.fallback', attributes, { [attributeNames.errorType]: errorType(event.error) });
    },
  },
});

/** The kinds whose `success` and `giveUp` events carry `elapsed` (the attempt loop's). */
const timedKinds: ReadonlySet<string> = new Set(['retry', 'poll', 'asyncBackoff', 'asyncRetry', 'timeout']);

/**
 * Listens to every live policy and to each one made later, until `stop()`.
 * Holds no policy alive: subscriptions are kept in a WeakMap, the policies
 * behind weak references (to find them again when stopping).
 */
export class PolicyListeners {
  readonly #targets: ListenerTargets;
  readonly #subscribed = new WeakMap<object, readonly (() => void)[]>();
  #policies = new Set<WeakRef<object>>();
  #pruneAt = 64;
  readonly #unwatch: () => void;

  constructor(targets: ListenerTargets) {
    this.#targets = targets;
    for (const row of livePolicies({ each: true })) this.#subscribe(row);
    this.#unwatch = watchPolicies((row) => {
      targets.beforeReport();
      this.#subscribe(row);
    });
  }

  /** Removes every listener it added. */
  stop(): void {
    this.#unwatch();
    for (const ref of this.#policies) {
      const policy = ref.deref();
      if (policy !== undefined) for (const unsubscribe of this.#subscribed.get(policy) ?? []) unsubscribe();
    }
    this.#policies = new Set();
  }

  #subscribe(row: LivePolicy): void {
    const policy = row.policy;
    const listeners = listenersByKind[row.kind];
    if (policy === undefined || listeners === undefined || this.#subscribed.has(policy)) return;
    const targets = this.#targets;
    const attributes = attributesOf(row);
    const unsubscribes: (() => void)[] = [];
    for (const type in listeners) {
      const report = listeners[type] as (event: never, attributes: AttributesOf, targets: ListenerTargets) => void;
      unsubscribes.push(
        (policy as Listenable).on(type, (event: never) => {
          targets.beforeReport();
          report(event, attributes, targets);
        }),
      );
    }
    if (targets.duration !== undefined && timedKinds.has(row.kind)) {
      const record = durationRecorder(row, attributes, targets.duration, targets.keys);
      unsubscribes.push(
        (policy as Listenable).on('success', (event: { readonly elapsed: number }) => {
          targets.beforeReport();
          record(event.elapsed, 'success');
        }),
        (policy as Listenable).on('giveUp', (event: { readonly elapsed: number; readonly error: unknown }) => {
          targets.beforeReport();
          record(event.elapsed, row.kind === 'timeout' && event.error instanceof TimeoutError ? 'timeout' : 'failure');
        }),
      );
    }
    this.#subscribed.set(policy, unsubscribes);
    if (this.#policies.size >= this.#pruneAt) {
      for (const ref of this.#policies) if (ref.deref() === undefined) this.#policies.delete(ref);
      this.#pruneAt = Math.max(64, 2 * this.#policies.size);
    }
    this.#policies.add(new WeakRef(policy));
  }
}

function attemptListeners(): Readonly<
  Record<string, (event: never, attributes: AttributesOf, targets: ListenerTargets) => void>
> {
  return {
    retry: (
      event: { readonly attempt: number; readonly delay: number; readonly failed: boolean; readonly error?: unknown },
      attributes: AttributesOf,
      targets: ListenerTargets,
    ) => {
      const extra: Attributes = {
        [attributeNames.attempt]: event.attempt,
        [attributeNames.delay]: event.delay / 1_000,
      };
      if (event.failed) extra[attributeNames.errorType] = errorType(event.error);
      spanEvent(targets, 'staunch.retry', attributes, extra);
    },
    timeout: (event: { readonly attempt: number; readonly error: unknown }, attributes: AttributesOf, targets) => {
      spanEvent(targets, 'staunch.timeout', attributes, {
        [attributeNames.attempt]: event.attempt,
        [attributeNames.errorType]: errorType(event.error),
      });
    },
  };
}

// On the span active where the event happened: the caller's, since events fire in the call's async context.
function spanEvent(targets: ListenerTargets, name: string, attributes: AttributesOf, extra: Attributes): void {
  if (!targets.spanEvents) return;
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  span.addEvent(name, { ...attributes(), ...extra });
}

// Records ms as seconds under the policy's attributes and the outcome: one attribute set per outcome, made
// once (again only if the class name arrives late), so a call allocates nothing for its measurement.
function durationRecorder(
  row: LivePolicy,
  attributes: AttributesOf,
  duration: (seconds: number, attributes: Attributes) => void,
  keys: boolean,
): (elapsed: number, outcome: string) => void {
  let base: Attributes | undefined;
  let byOutcome = new Map<string, Attributes>();
  return (elapsed, outcome) => {
    const now = attributes();
    if (now !== base) {
      base = now;
      byOutcome = new Map<string, Attributes>();
    }
    let set = byOutcome.get(outcome);
    if (set === undefined) {
      set = {};
      for (const name in now) if (keys || name !== attributeNames.key) set[name] = now[name];
      set[attributeNames.outcome] = outcome;
      byOutcome.set(outcome, set);
    }
    duration(elapsed / 1_000, set);
  };
}

// Until the class name is known (a TC39 decorator learns it from the first instance), it is looked up again.
function attributesOf(row: LivePolicy): AttributesOf {
  let known = policyAttributes(row, true);
  let settled = row.class !== undefined || row.method === undefined || row.policy === undefined;
  return () => {
    if (!settled) {
      const now = livePolicyOf(row.policy as object);
      if (now?.class !== undefined) {
        known = policyAttributes(now, true);
        settled = true;
      }
    }
    return known;
  };
}
