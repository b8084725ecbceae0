import {
  announcePolicy,
  invalidOption,
  registerDecoratedPolicy,
  type PolicyGroup,
  type PolicySite,
} from '@staunch/core';
import type { PolicyDescriptor } from './descriptors.js';
import type { AnyMethod, Layer } from './interceptor.js';

/**
 * Where a stateful policy keeps its state for one decorated method: the one
 * scope mechanism of every stateful decorator (`@CircuitBreaker`, `@Bulkhead`). One
 * object for the method (class scope, or a `breaker` the user shares), one per
 * instance (made on its first call, collected with it), or one per key.
 *
 * Keyed state is bounded: once more than `maxKeys` keys are held, the idle
 * ones (holding nothing worth keeping: for a circuit, closed with no failure
 * on record and no call running) are forgotten, so keys seen once do not
 * accumulate forever. State in use is never forgotten, so the map can hold
 * more than `maxKeys` while that many are busy.
 */
export class Scope<State extends object> implements PolicyGroup {
  /** The one object of a class or shared scope; undefined for the other scopes. */
  readonly single: State | undefined;
  readonly #make: ((key?: string) => State) | undefined;
  readonly #perInstance: WeakMap<object, State> | undefined;
  // The per-instance state, held weakly, so the registry can list it (a WeakMap cannot be walked).
  readonly #instances: Set<WeakRef<State>> | undefined;
  #pruneAt = 64;
  readonly #perKey: Map<string, State> | undefined;
  readonly #isIdle: ((state: State) => boolean) | undefined;
  readonly #maxKeys: number;
  // The next sweep runs at this size: `maxKeys`, or twice what the last sweep kept when more was busy,
  // so a map full of busy state is not swept again for every new key (amortised O(1) per new key).
  #sweepAt: number;
  #noun = 'the state';

  private constructor(
    single: State | undefined,
    make: ((key?: string) => State) | undefined,
    kind: 'instance' | 'key' | undefined,
    isIdle: ((state: State) => boolean) | undefined,
    maxKeys: number,
  ) {
    this.single = single;
    this.#make = make;
    this.#perInstance = kind === 'instance' ? new WeakMap() : undefined;
    this.#instances = kind === 'instance' ? new Set() : undefined;
    this.#perKey = kind === 'key' ? new Map() : undefined;
    this.#isIdle = isIdle;
    this.#maxKeys = maxKeys;
    this.#sweepAt = maxKeys;
  }

  /** One object for every call of the method (class scope, or a shared object). */
  static single<State extends object>(state: State): Scope<State> {
    return new Scope(state, undefined, undefined, undefined, Infinity);
  }

  /** One object per instance, made by `make()` on the instance's first call; `noun` names it in errors. */
  static perInstance<State extends object>(make: () => State, noun: string): Scope<State> {
    const scope = new Scope<State>(undefined, make, 'instance', undefined, Infinity);
    scope.#noun = noun;
    return scope;
  }

  /** One object per key, made by `make(key)`; past `maxKeys` keys, the idle ones are forgotten. */
  static perKey<State extends object>(
    make: (key?: string) => State,
    maxKeys: number,
    isIdle: (state: State) => boolean,
  ): Scope<State> {
    return new Scope<State>(undefined, make, 'key', isIdle, maxKeys);
  }

  /**
   * The state of a call on `self` (and with `key`, for a keyed scope), made on
   * first use. Throws a TypeError naming `label` for a `this` that is no object
   * (instance scope) or a key that is no string (keyed scope).
   */
  of(self: unknown, key: unknown, label: string): State {
    if (this.single !== undefined) return this.single;
    const make = this.#make as (key?: string) => State;
    const perInstance = this.#perInstance;
    if (perInstance !== undefined) {
      if (self === null || (typeof self !== 'object' && typeof self !== 'function')) {
        const got = self === null ? 'null' : typeof self;
        throw new TypeError(`${label}: ${this.#noun} with scope 'instance' needs an object as \`this\`, got ${got}.`);
      }
      let state = perInstance.get(self);
      if (state === undefined) {
        perInstance.set(self, (state = make()));
        this.#remember(state);
      }
      return state;
    }
    if (typeof key !== 'string') throw new TypeError(`${label}: \`key\` must return a string, got ${typeof key}.`);
    const perKey = this.#perKey as Map<string, State>;
    let state = perKey.get(key);
    if (state === undefined) {
      if (perKey.size >= this.#sweepAt) this.#sweep(perKey);
      perKey.set(key, (state = make(key)));
      announcePolicy(this, state, key);
    }
    return state;
  }

  /** Lists this scope's policies in the registry (`livePolicies()`), under `kind` and `site`. */
  register(kind: string, site: PolicySite): void {
    const single = this.single;
    if (single !== undefined) registerDecoratedPolicy(single, kind, 'class', site);
    else registerDecoratedPolicy(this, kind, this.#perKey === undefined ? 'instance' : 'key', site);
  }

  /** Every state this scope holds now, with its key for a keyed scope: what the registry lists. */
  forEachPolicy(visit: (policy: object, key: string | undefined) => void): void {
    if (this.single !== undefined) visit(this.single, undefined);
    if (this.#perKey !== undefined) for (const [key, state] of this.#perKey) visit(state, key);
    if (this.#instances !== undefined) {
      for (const ref of this.#instances) {
        const state = ref.deref();
        if (state === undefined) this.#instances.delete(ref);
        else visit(state, undefined);
      }
    }
  }

  // Remembers a new instance's state (weakly) and tells the registry's watchers. Collected states are
  // dropped by listings and by an amortised sweep here, so the set stays near the live instance count.
  #remember(state: State): void {
    const instances = this.#instances as Set<WeakRef<State>>;
    if (instances.size >= this.#pruneAt) {
      for (const ref of instances) if (ref.deref() === undefined) instances.delete(ref);
      this.#pruneAt = Math.max(64, 2 * instances.size);
    }
    instances.add(new WeakRef(state));
    announcePolicy(this, state, undefined);
  }

  #sweep(perKey: Map<string, State>): void {
    const isIdle = this.#isIdle as (state: State) => boolean;
    for (const [key, state] of perKey) if (isIdle(state)) perKey.delete(key);
    this.#sweepAt = Math.max(this.#maxKeys, 2 * perKey.size);
  }
}

/** Which state a decorated method uses: one per method, per instance, per key, or one the user shares. */
export type ScopeKind = 'class' | 'instance' | 'key';

/** The decorator options that place a stateful policy's state, as an untyped caller may give them. */
export interface ScopeOptions {
  readonly scope?: unknown;
  readonly key?: unknown;
  readonly maxKeys?: unknown;
}

/** Where a decorated method's state lives, read from its options by {@link scopeFromOptions}. */
export interface ScopePlan<State extends object> {
  readonly kind: ScopeKind;
  readonly scope: Scope<State>;
  /** The `key` function, for a keyed scope. */
  readonly key: ((self: unknown, args: unknown[]) => string) | undefined;
  /** For a keyed scope: how many keys are kept before idle state is forgotten. */
  readonly maxKeys: number | undefined;
}

/**
 * Validates `scope`, `key` and `maxKeys` (naming `label`'s decorator in the
 * error) and builds the scope they ask for: `make()` is called once now for
 * class scope, else on each new instance, or as `make(key)` on each new key; `isIdle` says which keyed
 * state may be forgotten past `maxKeys` (default `defaultMaxKeys`).
 */
export function scopeFromOptions<State extends object>(
  label: string,
  { scope, key, maxKeys }: ScopeOptions,
  make: (key?: string) => State,
  isIdle: (state: State) => boolean,
  noun: string,
  defaultMaxKeys: number,
): ScopePlan<State> {
  if (scope !== undefined && scope !== 'class' && scope !== 'instance') {
    invalidOption(label, 'scope', "'class' or 'instance'", scope);
  }
  if (key !== undefined && typeof key !== 'function')
    invalidOption(label, 'key', 'a function (self, args) => string', key);
  if (key !== undefined && scope !== undefined) invalidOption(label, 'scope', 'left out when `key` is given', scope);
  if (maxKeys !== undefined) {
    if (key === undefined) invalidOption(label, 'maxKeys', 'given only with `key`', maxKeys);
    if (typeof maxKeys !== 'number' || !(Number.isInteger(maxKeys) || maxKeys === Infinity) || maxKeys < 1) {
      invalidOption(label, 'maxKeys', 'an integer >= 1 (or Infinity)', maxKeys, RangeError);
    }
  }
  if (key !== undefined) {
    const keys = maxKeys ?? defaultMaxKeys;
    const keyOf = key as (self: unknown, args: unknown[]) => string;
    return { kind: 'key', scope: Scope.perKey(make, keys, isIdle), key: keyOf, maxKeys: keys };
  }
  if (scope === 'instance') {
    return { kind: 'instance', scope: Scope.perInstance(make, noun), key: undefined, maxKeys: undefined };
  }
  return { kind: 'class', scope: Scope.single(make()), key: undefined, maxKeys: undefined };
}

/**
 * Where a stateful decorator's state lives, as its options say it (`@CircuitBreaker`, `@Bulkhead`,
 * `@RateLimit`, `@Hedge`): `scope: 'class'` (default: one for the method, for all instances) or
 * `'instance'` (one per object, made on its first call and collected with it); or one per `key`, e.g. per
 * host: `key: (self, [url]) => new URL(url).host`, with at most `maxKeys` kept before idle ones are
 * forgotten (default 10,000; `Infinity`: never). State in use is never forgotten.
 */
export type ScopeChoice<This, Args extends unknown[]> =
  | {
      /** `'class'` (default): one for the method, for all instances; `'instance'`: one per object. */
      readonly scope?: 'class' | 'instance';
      readonly key?: never;
      readonly maxKeys?: never;
    }
  | {
      /** One per key, e.g. per host: `key: (self, [url]) => new URL(url).host`. */
      readonly key: (self: This, args: Args) => string;
      /** How many keyed ones are kept before idle ones are forgotten (default 10,000; `Infinity`: never). */
      readonly maxKeys?: number;
      readonly scope?: never;
    };

/** `@X({ [Field]: policy })`: a policy made by its factory, shared as it is, given alone (no other option). */
export type SharedPolicyOption<Field extends string, Policy, Options> = { readonly [F in Field]: Policy } & {
  readonly [K in keyof Options | 'scope' | 'key' | 'maxKeys']?: never;
};

/** What a scoped decorator (`@Bulkhead`, `@RateLimit`, `@Hedge`) tells {@link scopedLayer} about its policy. */
export interface ScopedKind<Policy extends ScopedPolicy> {
  /** The descriptor kind, e.g. `'bulkhead'`. */
  readonly kind: 'bulkhead' | 'rateLimit' | 'hedge';
  /** The option that shares a policy made by its factory, also the descriptor's scope then, e.g. `'bulkhead'`. */
  readonly shared: 'bulkhead' | 'limiter' | 'hedge';
  /** What that option accepts, for the error: `'a bulkhead made by bulkheadPolicy()'`. */
  readonly sharedIs: string;
  /** The state, in errors: `'a bulkhead'`. */
  readonly noun: string;
  /** How many keyed ones are kept by default. */
  readonly maxKeys: number;
  /** By shape too: a policy made by the other build (ESM or CJS) of the core package. */
  readonly isPolicy: (value: unknown) => value is Policy;
  /** An idle one (nothing running or waiting) may be forgotten past `maxKeys`: a new one acts the same. */
  readonly isIdle: (policy: Policy) => boolean;
}

/**
 * The layer of a scoped decorator: for `shared` (the policy given alone, checked here), one layer over it,
 * listed by its factory rather than under the method; else one over policies `make` builds where
 * `scope`/`key`/`maxKeys` place them (validated here, naming `label`), described with their resolved
 * `options`.
 */
export function scopedLayer<Policy extends ScopedPolicy & { readonly options: object }>(
  of: ScopedKind<Policy>,
  label: string,
  methodLabel: string,
  shared: unknown,
  placement: ScopeOptions,
  others: boolean,
  build: { readonly options: object; readonly make: (key?: string) => Policy } | undefined,
): ScopedLayer<Policy> {
  if (shared !== undefined) {
    if (!of.isPolicy(shared)) invalidOption(label, of.shared, of.sharedIs, shared);
    const { scope, key, maxKeys } = placement;
    if (scope !== undefined || key !== undefined || maxKeys !== undefined || others) {
      invalidOption(label, of.shared, `given alone (the shared ${of.shared} keeps its own options)`, shared);
    }
    const descriptor = { kind: of.kind, scope: of.shared, options: shared.options } as PolicyDescriptor;
    return new ScopedLayer(descriptor, methodLabel, Scope.single(shared), undefined, true);
  }
  const { options, make } = build as { readonly options: object; readonly make: (key?: string) => Policy };
  const plan = scopeFromOptions(label, placement, make, of.isIdle, of.noun, of.maxKeys);
  const descriptor = {
    kind: of.kind,
    scope: plan.kind,
    options,
    ...(plan.maxKeys !== undefined ? { maxKeys: plan.maxKeys } : {}),
  } as PolicyDescriptor;
  return new ScopedLayer(descriptor, methodLabel, plan.scope, plan.key, false);
}

/** A policy a {@link ScopedLayer} runs calls through: always answers with a promise, never throws. */
export interface ScopedPolicy {
  call<This, Args extends unknown[]>(
    fn: (this: This, ...args: Args) => unknown,
    thisArg: This,
    args: Args,
  ): Promise<unknown>;
}

/**
 * The live layer of an async-only stateful decorator (`@Bulkhead`): finds the
 * policy for each call through its {@link Scope} and runs the call through it.
 * Always answers with a promise: a `key` function that throws, or a `this` an
 * instance scope cannot hold, rejects the call.
 */
export class ScopedLayer<Policy extends ScopedPolicy> implements Layer {
  readonly returnsPromise = true;
  readonly #scope: Scope<Policy>;
  readonly #key: ((self: unknown, args: unknown[]) => string) | undefined;
  readonly #label: string;
  readonly #shared: boolean;

  /** `label` names the decorator and the method in errors: '@Bulkhead on fetch()'; `shared`: a policy given by the user. */
  constructor(
    readonly descriptor: PolicyDescriptor,
    label: string,
    scope: Scope<Policy>,
    key: ((self: unknown, args: unknown[]) => string) | undefined,
    shared: boolean,
  ) {
    this.#label = label;
    this.#scope = scope;
    this.#key = key;
    this.#shared = shared;
  }

  // A shared policy is listed by the factory that made it, not under one of the methods sharing it.
  register(site: PolicySite): void {
    if (!this.#shared) this.#scope.register(this.descriptor.kind, site);
  }

  run(next: AnyMethod, self: unknown, args: unknown[]): unknown {
    const fn = next as (this: unknown, ...args: unknown[]) => unknown;
    let policy = this.#scope.single;
    if (policy === undefined) {
      try {
        policy = this.#scope.of(self, this.#key?.(self, args), this.#label);
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the error as thrown
        return Promise.reject(error);
      }
    }
    return policy.call(fn, self, args);
  }

  bind(next: AnyMethod): ((self: unknown, args: unknown[]) => unknown) | undefined {
    const shared = this.#scope.single;
    if (shared === undefined) return undefined;
    const fn = next as (this: unknown, ...args: unknown[]) => unknown;
    return (self, args) => shared.call(fn, self, args);
  }

  /** The policy a call on `self` (with this `key`, for a keyed scope) goes through; made on first use. */
  policyFor(self: unknown, key?: string): Policy {
    return this.#scope.of(self, key, this.#label);
  }
}
