import {
  circuitBreakerFactory,
  invalidOption,
  isCircuitStoreProvider,
  type CircuitBreakerOptions,
  type CircuitBreakerPolicy,
  type ErrorFilter,
  type PolicySite,
} from '@staunch/core';
import { assertCalledWithOptions, defineDecorator, type DecoratedMethod } from './define-decorator.js';
import type { MethodDecorator } from './decorator-types.js';
import type { PolicyDescriptor } from './descriptors.js';
import { filterAndOptions } from './filter-arguments.js';
import { withDefaults, type PolicyDefaults } from './policy-defaults.js';
import { argsOf, type AnyMethod, type Layer } from './interceptor.js';
import { Scope, scopeFromOptions, type ScopeChoice, type SharedPolicyOption } from './scope.js';

/** `@CircuitBreaker`'s options: the core breaker options plus where its state lives. */
export type CircuitBreakerDecoratorOptions<
  This = unknown,
  Args extends unknown[] = unknown[],
> = CircuitBreakerOptions & {
  /** Which errors count as failures (default: every error). */
  readonly on?: ErrorFilter;
  /** Only in {@link SharedCircuitOption}, alone. */
  readonly breaker?: never;
} & ScopeChoice<This, Args>;

/** `@CircuitBreaker({ breaker })`: a circuit made by `circuitBreaker()`, shared as it is (no other option). */
export type SharedCircuitOption = SharedPolicyOption<
  'breaker',
  CircuitBreakerPolicy,
  CircuitBreakerOptions & { readonly on?: ErrorFilter }
>;

/**
 * Fails fast while the method's dependency is failing: after `threshold`
 * failures matching `on` within `resetTimeout` ms the circuit opens and calls
 * are rejected with `CircuitOpenError` without running; after `resetTimeout`
 * one trial call decides whether it closes again. Every option has a default.
 * A sync method stays sync (it throws); a method that returns promises (an
 * `async` one, or one under a policy that returns promises) gets every failure
 * as a rejection.
 *
 * @example
 * class Billing {
 *   @CircuitBreaker(HttpError, { threshold: 3, resetTimeout: 60_000 })
 *   async charge(id: string): Promise<Receipt> { … }
 *
 *   @CircuitBreaker()  // the defaults: threshold 3, resetTimeout 60 s, every error
 *   parse(text: string): Receipt { … }
 *
 *   @CircuitBreaker({ breaker: paymentsCircuit })  // one circuit shared with other methods
 *   async refund(id: string): Promise<void> { … }
 * }
 */
export function CircuitBreaker<This = unknown, Args extends unknown[] = unknown[]>(
  on: ErrorFilter,
  options?: CircuitBreakerDecoratorOptions<This, Args>,
): MethodDecorator<This, Args>;
export function CircuitBreaker<This = unknown, Args extends unknown[] = unknown[]>(
  options?: CircuitBreakerDecoratorOptions<This, Args> | SharedCircuitOption,
): MethodDecorator<This, Args>;
export function CircuitBreaker(...args: unknown[]): MethodDecorator {
  assertCalledWithOptions('@CircuitBreaker', args);
  return defineDecorator('@CircuitBreaker', 'circuitBreaker', (method, defaults) =>
    circuitLayer(method, args[0], args[1], defaults),
  );
}

/** The live layer behind one `@CircuitBreaker`, which finds the circuit for each call. */
export class CircuitLayer implements Layer {
  readonly #scope: Scope<CircuitBreakerPolicy>;
  readonly #key: ((self: unknown, args: unknown[]) => string) | undefined;
  readonly #label: string;

  /** `label` names the decorator and the method in errors: '@CircuitBreaker on fetch()'. */
  constructor(
    readonly descriptor: PolicyDescriptor & { readonly kind: 'circuitBreaker' },
    label: string,
    scope: Scope<CircuitBreakerPolicy>,
    key?: (self: unknown, args: unknown[]) => string,
  ) {
    this.#label = label;
    this.#scope = scope;
    this.#key = key;
  }

  // A shared `breaker` is listed by the factory that made it, not under one of the methods sharing it.
  register(site: PolicySite): void {
    if (this.descriptor.scope === 'breaker') return;
    site.name = this.descriptor.options.name;
    this.#scope.register('circuitBreaker', site);
  }

  run(next: AnyMethod, self: unknown, args: unknown[], inner = false): unknown {
    const breaker = this.#scope.single ?? this.#scope.of(self, this.#key?.(self, args), this.#label);
    // Inside another policy (a retry above it), that policy handles the promise: skip a step.
    return breaker.call(next as (this: unknown, ...args: unknown[]) => unknown, self, args, inner);
  }

  // A shared circuit's call never throws for an async function: an open circuit rejects it.
  readonly bindRejectsForAsync = true;

  bind(next: AnyMethod): ((self: unknown, args: unknown[]) => unknown) | undefined {
    const shared = this.#scope.single;
    if (shared === undefined) return undefined;
    const fn = next as (this: unknown, ...args: unknown[]) => unknown;
    return (self, args) => shared.call(fn, self, args);
  }

  step(next: AnyMethod): AnyMethod | undefined {
    const shared = this.#scope.single;
    if (shared === undefined) return undefined;
    const fn = next as (this: unknown, ...args: unknown[]) => unknown;
    return function (this: unknown): unknown {
      // eslint-disable-next-line prefer-rest-params
      return shared.call(fn, this, argsOf(arguments), true);
    };
  }

  /** The circuit a call on `self` (with this `key`, for keyed circuits) goes through; made on first use. */
  circuitFor(self: unknown, key?: string): CircuitBreakerPolicy {
    return this.#scope.of(self, key, this.#label);
  }
}

function circuitLayer(
  method: DecoratedMethod,
  first: unknown,
  second: unknown,
  defaults: PolicyDefaults['circuitBreaker'],
): CircuitLayer {
  const label = '@CircuitBreaker';
  // Every option has a default: `()` and `(on)` alone are complete.
  const { on, options: raw } = filterAndOptions(label, first, second);
  // Untyped callers reach here too, so the decorator-only options are checked as unknowns.
  const { scope, key, maxKeys, breaker, ...options } = (raw ?? {}) as CircuitBreakerOptions & {
    readonly scope?: unknown;
    readonly key?: unknown;
    readonly maxKeys?: unknown;
    readonly breaker?: unknown;
  };
  if (breaker !== undefined) {
    if (!isCircuitBreakerPolicy(breaker))
      invalidOption(label, 'breaker', 'a circuit made by circuitBreaker()', breaker);
    const others = on !== undefined || scope !== undefined || key !== undefined || maxKeys !== undefined;
    if (others || Object.keys(options).length > 0) {
      invalidOption(label, 'breaker', 'given alone (the shared circuit keeps its own options)', breaker);
    }
    const descriptor = { kind: 'circuitBreaker', scope: 'breaker', options: breaker.options } as const;
    return new CircuitLayer(descriptor, method.label, Scope.single(breaker));
  }
  // A store of named circuits, shared beyond this class.
  const byName = isCircuitStoreProvider(options.store);
  if (byName) {
    // The name is the circuit's identity across classes and processes: never a method name by accident.
    if (typeof options.name !== 'string') {
      invalidOption(label, 'name', 'given with a store of named circuits (it names the shared circuit)', options.name);
    }
    // Objects have no name another process could share: per-instance circuits would silently be one.
    if (scope === 'instance') invalidOption(label, 'scope', "'class' or a `key` with a store of named circuits", scope);
  }
  const resolved = {
    name: typeof method.name === 'symbol' ? (method.name.description ?? 'circuit') : method.name,
    ...withDefaults(defaults, { ...options, ...(on !== undefined ? { on } : {}) }),
  };
  const factory = circuitBreakerFactory(resolved);
  // A probe (options checked while defaults are awaited) asks no store for a circuit.
  const storeless: CircuitBreakerOptions = { ...resolved };
  delete (storeless as { store?: unknown }).store;
  const maker = method.probe && byName ? circuitBreakerFactory(storeless) : factory;
  // Keyed circuits in a store of named circuits are named by their key: one shared circuit per key.
  const make = (circuitKey?: string): CircuitBreakerPolicy =>
    byName && circuitKey !== undefined ? maker(`${resolved.name}[${circuitKey}]`) : maker();
  const placed = scopeFromOptions(
    label,
    { scope, key, maxKeys },
    make,
    isIdle,
    'a circuit',
    keyedCircuitDefaults.maxKeys,
  );
  const descriptor = {
    kind: 'circuitBreaker',
    scope: placed.kind,
    options: factory.options,
    ...(placed.maxKeys === undefined ? {} : { maxKeys: placed.maxKeys }),
  } as const;
  return new CircuitLayer(descriptor, method.label, placed.scope, placed.key);
}

/** The defaults of keyed circuits, stated once. */
export const keyedCircuitDefaults = Object.freeze({ maxKeys: 10_000 });

// An idle circuit (closed, no failure on record, no call running) can be forgotten: a new one acts the same.
function isIdle(circuit: CircuitBreakerPolicy): boolean {
  return circuit.idle;
}

function isCircuitBreakerPolicy(value: unknown): value is CircuitBreakerPolicy {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CircuitBreakerPolicy).call === 'function' &&
    typeof (value as CircuitBreakerPolicy).execute === 'function'
  );
}
