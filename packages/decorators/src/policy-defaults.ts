import {
  BulkheadPolicy,
  FallbackPolicy,
  HedgePolicy,
  PollPolicy,
  RateLimitPolicy,
  RetryPolicy,
  circuitBreakerFactory,
  resolveAsyncBackoff,
  resolveTimeout,
  withValidationLabel,
  type AsyncBackoffOptions,
  type AsyncRetryOptions,
  type BulkheadOptions,
  type CircuitBreakerOptions,
  type ErrorFilter,
  type FallbackOptions,
  type HedgeOptions,
  type PollOptions,
  type PolicySite,
  type RateLimitOptions,
  type RetryOptions,
  type TimeoutOptions,
} from '@staunch/core';

/**
 * Defaults for the decorators' options, per policy, applied to every decorated method that
 * leaves an option out (resilience4j's `configs.default`). What a decorator writes wins, option
 * by option. Not defaultable: what names or places one method's state (`name`, `store`, `scope`,
 * `key`, `maxKeys`, a shared policy) and the required arguments (`@Timeout`'s `ms`,
 * `@RateLimit`'s `permits`, `@Poll`'s predicate, `@Fallback`'s value).
 */
export interface PolicyDefaults {
  readonly retry?: RetryOptions & { readonly on?: ErrorFilter | undefined };
  readonly circuitBreaker?: Omit<CircuitBreakerOptions, 'name' | 'store' | 'restore'>;
  readonly timeout?: TimeoutOptions;
  readonly bulkhead?: BulkheadOptions;
  readonly rateLimit?: Omit<RateLimitOptions, 'permits' | 'store' | 'name'>;
  readonly hedge?: HedgeOptions;
  readonly asyncBackoff?: AsyncBackoffOptions;
  readonly asyncRetry?: AsyncRetryOptions;
  readonly poll?: PollOptions;
  readonly fallback?: FallbackOptions;
}

/** A policy kind that takes defaults: a key of {@link PolicyDefaults}. */
export type DefaultsKind = keyof PolicyDefaults;

/** A plan whose policies wait for the defaults; `prepare` builds them and returns the swap (for the slot). */
interface PendingPlan {
  readonly ref: WeakRef<object>;
  readonly prepare: (
    plan: object,
    defaults: PolicyDefaults | undefined,
    by: string | undefined,
  ) => (() => void) | undefined;
}

interface Slot {
  defaults: PolicyDefaults | undefined;
  by: string | undefined;
  expecting: boolean;
  readonly pending: Set<PendingPlan>;
  // The first policy of each kind built while no defaults were set: the error if defaults for that kind come later.
  readonly builtWithout: Map<string, { readonly label: string; readonly site: PolicySite }>;
}

// One slot per process, shared by the ESM and CJS copies of this package, so no behaviour depends on
// which build a class was decorated through.
const slot = ((globalThis as Record<symbol, unknown>)[Symbol.for('staunch.decorators.policyDefaults@1')] ??= {
  defaults: undefined,
  by: undefined,
  expecting: false,
  pending: new Set(),
  builtWithout: new Map(),
}) as Slot;

// Each kind's options checked as the decorator would: a constructor that validates, lists nothing
// and touches no store; the method's own required argument filled with a valid stand-in.
const checks: Readonly<Record<DefaultsKind, (options: object) => unknown>> = {
  retry: (options) => new RetryPolicy(options),
  circuitBreaker: (options) => circuitBreakerFactory(options),
  timeout: (options) => resolveTimeout(1, options),
  bulkhead: (options) => new BulkheadPolicy(options),
  rateLimit: (options) => new RateLimitPolicy({ permits: 1, ...options }),
  hedge: (options) => new HedgePolicy(options),
  asyncBackoff: (options) => resolveAsyncBackoff('asyncBackoff', options),
  asyncRetry: (options) => resolveAsyncBackoff('asyncRetry', options),
  poll: (options) => new PollPolicy(() => true, options),
  fallback: (options) => new FallbackPolicy(undefined, options),
};

// Options that name or place one method's state: never a default.
const perMethod = [
  'name',
  'store',
  'restore',
  'permits',
  'scope',
  'key',
  'maxKeys',
  'breaker',
  'bulkhead',
  'limiter',
  'hedge',
];

/**
 * Validates `defaults` as {@link setPolicyDefaults} does, without setting them: each policy's
 * options as its decorator checks them, the errors naming `by`, the policy and the option
 * (`StaunchModule.forRoot: defaults.retry: \`times\` must be …`).
 *
 * @example
 * import { checkPolicyDefaults } from '@staunch/decorators';
 *
 * checkPolicyDefaults({ retry: { times: 3, interval: 200 } }, 'config'); // passes
 * // checkPolicyDefaults({ retry: { times: 1.5 } }, 'config') throws: config: defaults.retry: `times` must be …
 */
export function checkPolicyDefaults(defaults: PolicyDefaults, by = 'setPolicyDefaults'): void {
  if (typeof defaults !== 'object' || (defaults as unknown) === null) {
    throw new TypeError(`${by}: the policy defaults must be an object, got ${kindOf(defaults)}.`);
  }
  for (const [kind, options] of Object.entries(defaults) as [string, unknown][]) {
    const check = Object.hasOwn(checks, kind) ? checks[kind as DefaultsKind] : undefined;
    if (check === undefined) {
      throw new TypeError(`${by}: \`defaults.${kind}\` is not a policy; expected ${Object.keys(checks).join(', ')}.`);
    }
    if (options === undefined) continue;
    const where = `${by}: defaults.${kind}`;
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`${where}: must be an object of ${kind} options, got ${kindOf(options)}.`);
    }
    const local = perMethod.find((key) => Object.hasOwn(options, key));
    if (local !== undefined) {
      throw new TypeError(`${where}: \`${local}\` cannot be a default (it belongs to each decorated method).`);
    }
    withValidationLabel(where, () => check(options));
  }
}

/**
 * Sets the defaults every decorated method's policies take for the options they leave out,
 * once per process (the ESM and CJS builds share them). Validated here (errors name `by`);
 * the methods waiting for them ({@link expectPolicyDefaults}) are built now, so an invalid
 * combination of a method's options with the defaults throws here, naming the decorator,
 * class, method and option. Setting them again with equal values does nothing; with other
 * values, or defaults for a policy kind some method already built without them, it throws:
 * a policy built once never changes.
 *
 * @example
 * import { Retry, setPolicyDefaults } from '@staunch/decorators';
 *
 * setPolicyDefaults({ retry: { times: 5, interval: 200 } });
 *
 * class Billing {
 *   @Retry() // 5 calls, 200 ms apart
 *   async charge(id: string): Promise<string> {
 *     return id;
 *   }
 * }
 */
export function setPolicyDefaults(defaults: PolicyDefaults, options?: { readonly by?: string }): void {
  const by = options?.by ?? 'setPolicyDefaults';
  checkPolicyDefaults(defaults, by);
  if (slot.defaults !== undefined) {
    const difference = differenceOf(slot.defaults, defaults, 'defaults');
    if (difference === undefined) return;
    throw new Error(
      `${by}: the policy defaults were already set by ${slot.by ?? 'setPolicyDefaults'}, to other values (${difference}). ` +
        'They are process-wide and set once: policies built with them never change.',
    );
  }
  for (const [kind, built] of slot.builtWithout) {
    if (isEmpty(defaults[kind as DefaultsKind])) continue;
    throw new Error(
      `${by}: \`defaults.${kind}\` cannot apply to ${labelOf(built.label, built.site)}, whose policy was built ` +
        'before the defaults were set (called, looked up, or decorated before expectPolicyDefaults()). ' +
        'Set the defaults first, or call expectPolicyDefaults() before the decorated classes are defined.',
    );
  }
  // Build every waiting method first, and swap them in only if all succeed.
  const swaps: (() => void)[] = [];
  for (const entry of slot.pending) {
    const plan = entry.ref.deref();
    const swap = plan === undefined ? undefined : entry.prepare(plan, defaults, by);
    if (swap !== undefined) swaps.push(swap);
  }
  slot.defaults = frozenCopy(defaults);
  slot.by = by;
  slot.expecting = false;
  slot.pending.clear();
  for (const swap of swaps) swap();
}

/**
 * Declares that policy defaults will be set ({@link setPolicyDefaults}) after the decorated
 * classes are defined (`@staunch/nestjs` calls it when loaded: its module sets them when the
 * app starts). Until then, each decorator still validates its own options when its class is
 * defined, but builds its policy later: when the defaults are set, or at the method's first
 * call or lookup (`policyOf`, `circuitOf`, `policiesOf`'s options), without defaults, if that
 * comes first. Listed by `livePolicies()` once built. Does nothing once defaults are set.
 *
 * @example
 * import { Retry, expectPolicyDefaults, setPolicyDefaults } from '@staunch/decorators';
 *
 * expectPolicyDefaults();
 *
 * class Billing {
 *   @Retry({ interval: 100 })
 *   async charge(id: string): Promise<string> {
 *     return id;
 *   }
 * }
 *
 * setPolicyDefaults({ retry: { times: 5 } }); // charge(): 5 calls, 100 ms apart
 */
export function expectPolicyDefaults(): void {
  if (slot.defaults === undefined) slot.expecting = true;
}

/** True while decorators wait for the defaults (see {@link expectPolicyDefaults}). */
export function awaitingDefaults(): boolean {
  return slot.expecting;
}

/** The defaults set (undefined until then) and who set them. */
export function currentDefaults(): { readonly defaults: PolicyDefaults | undefined; readonly by: string | undefined } {
  return { defaults: slot.defaults, by: slot.by };
}

/** Notes a policy of `kind` built with no defaults set: defaults for `kind` set later would miss it. */
export function noteBuiltWithoutDefaults(kind: DefaultsKind, label: string, site: PolicySite): void {
  if (slot.defaults === undefined && !slot.builtWithout.has(kind)) slot.builtWithout.set(kind, { label, site });
}

/** Adds a plan whose policies wait for the defaults; its entry goes when they are set. */
export function addPendingPlan(plan: object, prepare: PendingPlan['prepare']): void {
  slot.pending.add({ ref: new WeakRef(plan), prepare });
}

/**
 * `explicit` over `defaults`, option by option: an option the decorator left out (or gave as
 * `undefined`) takes the default. Anything but an object is returned as it is, for the policy to reject.
 */
export function withDefaults<T>(defaults: object | undefined, explicit: T): T {
  if (defaults === undefined || (explicit !== undefined && (typeof explicit !== 'object' || explicit === null))) {
    return explicit;
  }
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(explicit ?? {})) if (value !== undefined) merged[key] = value;
  return merged as T;
}

/** '@Retry on Billing.charge()' once the class is known, else the decorator's own label. */
export function labelOf(label: string, site: PolicySite): string {
  return site.class === undefined ? label : label.replace(' on ', ` on ${site.class}.`);
}

// The defaults as given now: a change to the caller's objects afterwards changes nothing.
function frozenCopy(defaults: PolicyDefaults): PolicyDefaults {
  const copy: Record<string, object | undefined> = {};
  for (const [kind, options] of Object.entries(defaults) as [string, object | undefined][]) {
    copy[kind] = options === undefined ? undefined : Object.freeze({ ...options });
  }
  return Object.freeze(copy);
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

function isEmpty(options: object | undefined): boolean {
  return options === undefined || Object.values(options).every((value) => value === undefined);
}

// Where two sets of defaults differ ('`defaults.retry.times`: 3, now 5'), or undefined. Plain objects
// and arrays are compared by content, anything else (an error class, a clock, a budget) by identity.
function differenceOf(before: unknown, after: unknown, path: string): string | undefined {
  if (Object.is(before, after)) return undefined;
  if (isPlain(before) && isPlain(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of keys) {
      const found = differenceOf(
        (before as Record<string, unknown>)[key],
        (after as Record<string, unknown>)[key],
        `${path}.${key}`,
      );
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return `\`${path}\`: ${show(before)}, now ${show(after)}`;
}

function isPlain(value: unknown): value is object {
  if (Array.isArray(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function show(value: unknown): string {
  if (typeof value === 'function') return value.name === '' ? 'a function' : value.name;
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}
