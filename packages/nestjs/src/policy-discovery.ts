import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import {
  circuitOf,
  policiesOf,
  type CircuitBreakerPolicy,
  type MethodPolicies,
  type PolicyDescriptor,
} from '@staunch/decorators';

/** One decorated method of a provider or controller, as {@link StaunchDiscovery} finds it. */
export interface DiscoveredMethod {
  /** The class's name (`PaymentsService`). */
  readonly className: string;
  /** The provider's or controller's class. */
  readonly target: abstract new (...args: never[]) => unknown;
  readonly kind: 'provider' | 'controller';
  /** Nest's scope of the class: `'default'` (a singleton), `'request'` or `'transient'`. */
  readonly scope: 'default' | 'request' | 'transient';
  readonly method: string | symbol;
  readonly static: boolean;
  /** Outermost first, as `policiesOf` lists them. */
  readonly policies: readonly PolicyDescriptor[];
}

/** A circuit {@link StaunchDiscovery.circuits} found, with where it belongs. */
export interface DiscoveredCircuit {
  /** `'PaymentsService.charge'`. */
  readonly method: string;
  readonly circuit: CircuitBreakerPolicy;
}

/**
 * Lists the staunch policies of every provider and controller of the application (through Nest's
 * `DiscoveryService`), and the live circuits behind them. Provided by `StaunchModule`.
 *
 * Which circuits `circuits()` can reach: one per method (`scope: 'class'`, the default, and every
 * shared `breaker`) always; `scope: 'instance'` ones of singleton providers (the one instance
 * Nest made); not those of request-scoped or transient instances (Nest keeps no list of them), and
 * not keyed circuits (one per key, made on demand).
 *
 * @example
 * import { Controller, Get } from '@nestjs/common';
 * import { StaunchDiscovery } from '@staunch/nestjs';
 *
 * @Controller('policies')
 * export class PoliciesController {
 *   constructor(private readonly discovery: StaunchDiscovery) {}
 *
 *   @Get()
 *   list(): object[] {
 *     return this.discovery.methods().map((m) => ({ method: `${m.className}.${String(m.method)}`, policies: m.policies }));
 *   }
 * }
 */
export class StaunchDiscovery {
  readonly #discovery: DiscoveryService;

  constructor(discovery: DiscoveryService) {
    this.#discovery = discovery;
  }

  /** Every decorated method of the app's providers and controllers, each class once. */
  methods(): DiscoveredMethod[] {
    return this.#decorated().flatMap(({ wrapper, kind, entries }) =>
      entries.map((entry) => ({
        className: (wrapper.metatype as { name: string }).name,
        target: wrapper.metatype as DiscoveredMethod['target'],
        kind,
        scope: scopeOf(wrapper),
        method: entry.method,
        static: entry.static,
        policies: entry.policies,
      })),
    );
  }

  /** The live circuits of the app (see the class's notes for which). */
  circuits(): DiscoveredCircuit[] {
    const found: DiscoveredCircuit[] = [];
    const seen = new Set<CircuitBreakerPolicy>();
    for (const { wrapper, entries } of this.#decorated()) {
      const singleton = scopeOf(wrapper) === 'default' ? (wrapper.instance as object | undefined) : undefined;
      for (const entry of entries) {
        for (const policy of entry.policies) {
          if (policy.kind !== 'circuitBreaker' || policy.scope === 'key') continue;
          const owner = policy.scope === 'instance' ? singleton : (wrapper.metatype as object);
          if (owner === undefined || entry.private) continue;
          const circuit = circuitOf(owner, entry.method);
          if (seen.has(circuit)) continue; // a shared breaker, or a class listed as two providers
          seen.add(circuit);
          found.push({ method: `${(wrapper.metatype as { name: string }).name}.${String(entry.method)}`, circuit });
        }
      }
    }
    return found;
  }

  #decorated(): { wrapper: InstanceWrapper; kind: DiscoveredMethod['kind']; entries: readonly MethodPolicies[] }[] {
    const classes = new Set<unknown>();
    const all = [
      ...this.#discovery.getControllers().map((wrapper) => ({ wrapper, kind: 'controller' as const })),
      ...this.#discovery.getProviders().map((wrapper) => ({ wrapper, kind: 'provider' as const })),
    ];
    return all.flatMap(({ wrapper, kind }) => {
      const type = wrapper.metatype;
      // Value and factory providers have no class of their own to read; a class is listed once.
      if (typeof type !== 'function' || wrapper.inject != null || classes.has(type)) return [];
      classes.add(type);
      const entries = policiesOf(type);
      return entries.length > 0 ? [{ wrapper, kind, entries }] : [];
    });
  }
}
Injectable()(StaunchDiscovery);
Inject(DiscoveryService)(StaunchDiscovery, undefined, 0);

// Nest's record of one provider or controller (its InstanceWrapper), without a deep import.
type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

function scopeOf(wrapper: InstanceWrapper): DiscoveredMethod['scope'] {
  if (wrapper.isTransient) return 'transient';
  return wrapper.isDependencyTreeStatic() ? 'default' : 'request';
}
