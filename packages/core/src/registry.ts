import { policyReaders, type PolicyReader } from './policy-readers.js';

/** How a policy (or a row of them) is doing: for health endpoints. */
export type PolicyHealth = 'up' | 'degraded' | 'down';

/**
 * Where a listed policy lives: `'standalone'` (made by a factory such as
 * `circuitBreaker()`), or a decorated method's `'class'`, `'instance'` or `'key'` scope.
 */
export type PolicyScope = 'standalone' | 'class' | 'instance' | 'key';

/** Where a decorated policy sits. Mutable: the decorators learn the class name once the class exists. */
export interface PolicySite {
  /** The class name, once known (TC39 decorators see it when the class or its first instance is made). */
  class: string | undefined;
  /** The method name (`'#name'` for a private one). */
  method: string | undefined;
  /** The policy's own name (a circuit's `name`), if it has one. */
  name: string | undefined;
}

/** Many policies of one kind behind one registration: a decorated method's per-instance or per-key scope. */
export interface PolicyGroup {
  /** Calls `visit` for every live policy of the group, with its key (keyed scopes). */
  forEachPolicy(visit: (policy: object, key: string | undefined) => void): void;
}

/**
 * One row of {@link livePolicies}: one policy, or (by default) all the
 * policies of a decorated method's per-instance or per-key scope at once.
 */
export interface LivePolicy {
  /** `'circuitBreaker'`, `'bulkhead'`, `'retry'`, `'poll'`, `'asyncBackoff'`, `'asyncRetry'`, `'timeout'`, `'fallback'`… */
  readonly kind: string;
  /** The policy's own name (a circuit's `name`, or the `name` given to {@link registerPolicy}). */
  readonly name: string | undefined;
  /** The decorated method's class name, when known. */
  readonly class: string | undefined;
  /** The decorated method's name. */
  readonly method: string | undefined;
  readonly scope: PolicyScope;
  /** The key of a keyed policy listed one by one (`{ each: true }`). */
  readonly key: string | undefined;
  /** How many live policies the row stands for: 1, or a scope's instance or key count (0 before the first call). */
  readonly count: number;
  /** The state of a one-policy row (`'closed'`, `'open'`, `'half-open'`, `'isolated'`; a bulkhead's `'accepting'`, `'full'`, `'rejecting'`); of a summary row, the state all share. */
  readonly state: string | undefined;
  /** How many of the row's policies are in each state. */
  readonly states: Readonly<Record<string, number>>;
  /** `'up'`, `'degraded'` or `'down'`; a summary row is down only when all its policies are. */
  readonly health: PolicyHealth;
  /** The counters, summed over the row's policies (as each kind's `statistics`, read without side effects). */
  readonly statistics: Readonly<Record<string, number>>;
  /** The live policy of a one-policy row (a summary row has none). */
  readonly policy: object | undefined;
}

/** Options of {@link livePolicies}. */
export interface LivePoliciesOptions {
  /**
   * One row per policy of per-instance and per-key scopes, keys included,
   * rather than one summary row per scope (default false: keys can be many).
   */
  readonly each?: boolean;
}

/**
 * Every live policy: those made by the factories (`circuitBreaker()`,
 * `retryPolicy()`, `bulkheadPolicy()`, …) or given to {@link registerPolicy}, and
 * those the decorators made, with their class and method. Reads what exists:
 * nothing is made (a per-instance scope lists the instances that called), and
 * nothing is kept alive (a collected policy, instance or class disappears).
 *
 * @example
 * import { circuitBreaker, livePolicies } from '@staunch/core';
 *
 * const payments = circuitBreaker({ name: 'payments' });
 * const row = livePolicies().find((p) => p.policy === payments);
 * console.log(row?.state, row?.health); // 'closed' 'up'
 */
export function livePolicies(options?: LivePoliciesOptions): LivePolicy[] {
  const each = options?.each === true;
  // Collected first (dropping collected entries), read after: reading a circuit's state can run listeners,
  // and whatever they register must not move entries under this loop.
  const targets: object[] = [];
  sweep(targets);
  const rows: LivePolicy[] = [];
  for (const target of targets) {
    const source = registry.sources.get(target) as Source;
    if (source.group) {
      const group = target as PolicyGroup;
      if (each) group.forEachPolicy((policy, key) => rows.push(rowOf(source, policy, key)));
      else rows.push(summaryOf(source, group));
    } else {
      rows.push(rowOf(source, target, undefined));
    }
  }
  return rows;
}

/**
 * The row of one policy listed on its own (made by a factory, registered, or
 * a decorated method's class-scoped one), read now; undefined for others.
 *
 * @example
 * import { circuitBreaker, livePolicyOf } from '@staunch/core';
 *
 * console.log(livePolicyOf(circuitBreaker({ name: 'search' }))?.state); // 'closed'
 */
export function livePolicyOf(policy: object): LivePolicy | undefined {
  const source = registry.sources.get(policy);
  return source === undefined || source.group ? undefined : rowOf(source, policy, undefined);
}

/**
 * Lists `policy` in {@link livePolicies} (held weakly), under `kind` and,
 * optionally, a `name`; listing it again updates its details. The factories
 * call it already: use it for a policy made with `new`, or to name one.
 *
 * @example
 * import { RetryPolicy, livePolicies, registerPolicy } from '@staunch/core';
 *
 * const search = new RetryPolicy({ times: 2 });
 * registerPolicy(search, 'retry', { name: 'search' });
 * console.log(livePolicies().some((p) => p.name === 'search')); // true
 */
export function registerPolicy(policy: object, kind: string, details?: { readonly name?: string }): void {
  const name = details?.name;
  const known = registry.sources.get(policy);
  if (known === undefined) {
    add(policy, name === undefined ? standalone(kind) : sourceOf(kind, 'standalone', siteNamed(name), false));
  } else if (name !== undefined && !known.group) {
    // The site shared by every unnamed standalone policy of a kind is never written: a named one gets its own.
    if (known.site === unnamed) registry.sources.set(policy, { ...known, site: siteNamed(name) });
    else known.site.name = name;
  }
}

/**
 * Lists a decorated method's policy (class scope) or its scope of many (a
 * {@link PolicyGroup}: instance or key scope) with its site. For the decorators; a
 * policy already listed by its factory moves under the site instead of being listed twice.
 *
 * @example
 * import { livePolicies, registerDecoratedPolicy, retryPolicy } from '@staunch/core';
 *
 * const policy = retryPolicy();
 * registerDecoratedPolicy(policy, 'retry', 'class', { class: 'Billing', method: 'charge', name: undefined });
 * console.log(livePolicies().find((p) => p.policy === policy)?.method); // 'charge'
 */
export function registerDecoratedPolicy(
  target: object,
  kind: string,
  scope: Exclude<PolicyScope, 'standalone'>,
  site: PolicySite,
): void {
  const group = scope !== 'class';
  const known = registry.sources.get(target);
  // A policy its factory listed moves under the method: a source of its own, the entry it has stays.
  if (known !== undefined) registry.sources.set(target, { ...known, scope, site, group });
  else add(target, sourceOf(kind, scope, site, group));
}

/**
 * A new policy of a group (made for a new instance or key); tells watchers, if there are any.
 * For the decorators' scopes, which call it when they make state.
 *
 * @example
 * import { announcePolicy, circuitBreaker, registerDecoratedPolicy, type PolicyGroup } from '@staunch/core';
 *
 * const circuits = new Map([['a', circuitBreaker()]]);
 * const group: PolicyGroup = { forEachPolicy: (visit) => circuits.forEach((c, key) => visit(c, key)) };
 * registerDecoratedPolicy(group, 'circuitBreaker', 'key', { class: 'Hosts', method: 'get', name: 'get' });
 * const b = circuitBreaker();
 * circuits.set('b', b);
 * announcePolicy(group, b, 'b');
 */
export function announcePolicy(group: PolicyGroup, policy: object, key: string | undefined): void {
  if (registry.watchers.size === 0) return;
  const source = registry.sources.get(group);
  if (source === undefined || !source.group) return;
  const row = rowOf(source, policy, key);
  for (const watcher of registry.watchers) watcher(row);
}

/**
 * Calls `watcher` with the row of every policy made from now on (standalone,
 * or a new instance's or key's): for telemetry that subscribes to each
 * policy's events. Returns the function that stops it.
 *
 * @example
 * import { circuitBreaker, watchPolicies } from '@staunch/core';
 *
 * const stop = watchPolicies((p) => p.kind === 'circuitBreaker' && console.log('new circuit', p.name));
 * circuitBreaker({ name: 'search' }); // logs: new circuit search
 * stop();
 */
export function watchPolicies(watcher: (policy: LivePolicy) => void): () => void {
  registry.watchers.add(watcher);
  return () => {
    registry.watchers.delete(watcher);
  };
}

// One registry per process, shared by the ESM and CJS copies of this package (and by other versions that
// agree on this shape), so no listing depends on which build made a policy. What a policy costs to list is
// kept to the least a weak listing can cost: one WeakRef in `entries` (nothing weaker can be walked) and one
// entry in `sources` (for `livePolicyOf`, found in O(1)); its Source is shared by every unnamed standalone
// policy of its kind, so a factory-made policy adds no object of its own beyond the WeakRef.
interface Source {
  readonly kind: string;
  readonly reader: PolicyReader;
  readonly scope: PolicyScope;
  readonly site: PolicySite;
  readonly group: boolean;
}

interface Registry {
  /** Every listed policy or group, held weakly, in the order they were listed. */
  readonly entries: WeakRef<object>[];
  readonly sources: WeakMap<object, Source>;
  readonly watchers: Set<(policy: LivePolicy) => void>;
  sweepAt: number;
}

// v2: one array of WeakRefs and one WeakMap of Sources (v1 kept a Source object with its own WeakRef per policy).
const REGISTRY = Symbol.for('staunch.registry.v2');
const holder = globalThis as unknown as Record<symbol, Registry | undefined>;
const registry: Registry = (holder[REGISTRY] ??= {
  entries: [],
  sources: new WeakMap(),
  watchers: new Set(),
  sweepAt: 64,
});

// The site of every unnamed standalone policy, and their Source per kind (per copy: a reader reads the
// private state of its own copy's classes).
const unnamed: PolicySite = Object.freeze({ class: undefined, method: undefined, name: undefined });
const standaloneSources = new Map<string, Source>();

function standalone(kind: string): Source {
  let source = standaloneSources.get(kind);
  if (source === undefined) standaloneSources.set(kind, (source = sourceOf(kind, 'standalone', unnamed, false)));
  return source;
}

function siteNamed(name: string): PolicySite {
  return { class: undefined, method: undefined, name };
}

function sourceOf(kind: string, scope: PolicyScope, site: PolicySite, group: boolean): Source {
  const reader = policyReaders[kind];
  if (reader === undefined) throw new TypeError(`staunch: no reader for policy kind '${kind}' (policy-readers.ts).`);
  return { kind, reader, scope, site, group };
}

function add(target: object, source: Source): void {
  const entries = registry.entries;
  // Collected policies leave their WeakRefs behind until a listing or this amortised sweep drops them.
  if (entries.length >= registry.sweepAt) {
    sweep(undefined);
    registry.sweepAt = Math.max(64, 2 * entries.length);
  }
  entries.push(new WeakRef(target));
  registry.sources.set(target, source);
  if (registry.watchers.size > 0 && !source.group) {
    const row = rowOf(source, target, undefined);
    for (const watcher of registry.watchers) watcher(row);
  }
}

// Drops the entries of collected objects (in place, keeping the order), and gives the live ones to `live`.
function sweep(live: object[] | undefined): void {
  const entries = registry.entries;
  let kept = 0;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as WeakRef<object>;
    const target = entry.deref();
    if (target === undefined) continue;
    entries[kept++] = entry;
    live?.push(target);
  }
  entries.length = kept;
}

function rowOf(source: Source, policy: object, key: string | undefined): LivePolicy {
  const reader = source.reader;
  const state = reader.state(policy);
  return Object.freeze({
    kind: source.kind,
    name: reader.name(policy) ?? source.site.name,
    class: source.site.class,
    method: source.site.method,
    scope: source.scope,
    key,
    count: 1,
    state,
    states: Object.freeze(state === undefined ? {} : { [state]: 1 }),
    health: reader.health(state),
    statistics: Object.freeze(reader.statistics(policy)),
    policy,
  });
}

function summaryOf(source: Source, group: PolicyGroup): LivePolicy {
  const reader = source.reader;
  const states: Record<string, number> = {};
  const statistics: Record<string, number> = {};
  let count = 0;
  let down = 0;
  let notUp = 0;
  group.forEachPolicy((policy) => {
    count++;
    const state = reader.state(policy);
    if (state !== undefined) states[state] = (states[state] ?? 0) + 1;
    const health = reader.health(state);
    if (health !== 'up') notUp++;
    if (health === 'down') down++;
    const counters = reader.statistics(policy);
    for (const name in counters) statistics[name] = (statistics[name] ?? 0) + (counters[name] as number);
  });
  const names = Object.keys(states);
  return Object.freeze({
    kind: source.kind,
    name: source.site.name,
    class: source.site.class,
    method: source.site.method,
    scope: source.scope,
    key: undefined,
    count,
    state: names.length === 1 ? names[0] : undefined,
    states: Object.freeze(states),
    health: count > 0 && down === count ? 'down' : notUp > 0 ? 'degraded' : 'up',
    statistics: Object.freeze(statistics),
    policy: undefined,
  });
}

/** `policy`, listed by {@link registerPolicy}: the one-line registration of the factories. */
export function registered<P extends object>(policy: P, kind: string): P {
  registerPolicy(policy, kind);
  return policy;
}
