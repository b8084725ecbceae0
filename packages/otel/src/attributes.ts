import type { Attributes } from '@opentelemetry/api';
import type { LivePolicy } from '@staunch/core';

/**
 * The attribute names staunch reports under, stated once.
 *
 * @example
 * import { attributeNames } from '@staunch/otel';
 *
 * console.log(attributeNames.outcome); // 'staunch.outcome'
 */
export const attributeNames = Object.freeze({
  kind: 'staunch.policy.kind',
  name: 'staunch.policy.name',
  scope: 'staunch.policy.scope',
  key: 'staunch.key',
  outcome: 'staunch.outcome',
  circuitState: 'staunch.circuit.state',
  previousState: 'staunch.circuit.previous_state',
  attempt: 'staunch.attempt',
  delay: 'staunch.retry.delay',
  reason: 'staunch.reason',
  // Semantic conventions: the method as `Class.method`, and the error's class.
  function: 'code.function.name',
  errorType: 'error.type',
});

/** The attributes that say which policy a measurement or an event is about; `withKey`: its key too (cardinality!). */
export function policyAttributes(row: LivePolicy, withKey: boolean): Attributes {
  const attributes: Attributes = { [attributeNames.kind]: row.kind, [attributeNames.scope]: row.scope };
  if (row.name !== undefined) attributes[attributeNames.name] = row.name;
  const fn = functionName(row);
  if (fn !== undefined) attributes[attributeNames.function] = fn;
  if (withKey && row.key !== undefined) attributes[attributeNames.key] = row.key;
  return attributes;
}

/** `error.type` as the semantic conventions define it: the error's class name, else `'_OTHER'`. */
export function errorType(error: unknown): string {
  if (error instanceof Error || (typeof error === 'object' && error !== null)) {
    const name = (error as { readonly constructor?: { readonly name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name !== '' && name !== 'Object') return name;
  }
  return '_OTHER';
}

function functionName(row: LivePolicy): string | undefined {
  if (row.method === undefined) return undefined;
  return row.class === undefined ? row.method : `${row.class}.${row.method}`;
}
