import type { CircuitBreakerPolicy } from '@staunch/core';
import { CircuitLayer } from './circuit-breaker.js';
import { planOf } from './interceptor.js';
import { wrapperOf } from './metadata.js';

/**
 * The live circuit behind a `@CircuitBreaker` method: pass an instance (for
 * `scope: 'instance'`), or the class or an instance for the other scopes, and
 * the `key` for keyed circuits. For a shared `breaker`, that same object.
 *
 * @example
 * circuitOf(Billing, 'charge').state;      // 'closed'
 * circuitOf(client, 'fetch', 'api.example.com').isolate();
 */
export function circuitOf(target: object, method: string | symbol, key?: string): CircuitBreakerPolicy {
  const isClass = typeof target === 'function';
  const owner = isClass ? target : (target as { constructor: object }).constructor;
  const instanceWrapper = wrapperOf(owner, method, false);
  const wrapper = instanceWrapper ?? (isClass ? wrapperOf(owner, method, true) : undefined);
  const layer = planOf(wrapper)?.layers.find((l): l is CircuitLayer => l instanceof CircuitLayer);
  if (layer === undefined) {
    throw new TypeError(`circuitOf: "${String(method)}" has no @CircuitBreaker on ${describeOwner(owner)}.`);
  }
  const scope = layer.descriptor.scope;
  if (scope === 'instance' && isClass && instanceWrapper !== undefined) {
    throw new TypeError(`circuitOf: "${String(method)}" has one circuit per instance (scope 'instance'): pass an instance, not the class.`);
  }
  if (scope === 'key' && key === undefined) {
    throw new TypeError(`circuitOf: "${String(method)}" has one circuit per key: pass the key as the third argument.`);
  }
  return layer.circuitFor(isClass && instanceWrapper !== undefined ? undefined : target, key);
}

function describeOwner(owner: object): string {
  const name = (owner as { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? `class ${name}` : 'this class';
}
