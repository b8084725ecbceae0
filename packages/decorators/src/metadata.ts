import './polyfill.js';
import type { PolicyDescriptor } from './descriptors.js';

/** Where one decorated method's policies are recorded. */
export interface MethodPolicies {
  /** The method's name (`'#name'` for a private method). */
  readonly method: string | symbol;
  readonly static: boolean;
  readonly private: boolean;
  /** Outermost first: the written order, top to bottom. */
  readonly policies: readonly PolicyDescriptor[];
}

// Symbol.for keeps the keys identical across the ESM and CJS copies of this package.
const POLICIES = Symbol.for('staunch.policies');

type PolicyTable = Record<string | symbol, MethodPolicies>;
type MetadataObject = Record<PropertyKey, unknown>;

/** The key a method is recorded under: static and instance methods may share a name. */
export function tableKey(method: string | symbol, isStatic: boolean): string | symbol {
  return isStatic ? `static ${String(method)}` : method;
}

/**
 * Records `descriptor` as the new outermost policy of a method. Copy on write:
 * a subclass's table inherits its parent's through the prototype chain and is
 * never written through, so a child's decorator cannot change its parent's list.
 */
export function recordPolicy(
  metadata: MetadataObject,
  method: string | symbol,
  flags: { readonly static: boolean; readonly private: boolean },
  descriptor: PolicyDescriptor,
): void {
  const own: PolicyTable = Object.hasOwn(metadata, POLICIES)
    ? (metadata[POLICIES] as PolicyTable)
    : (metadata[POLICIES] = Object.create((metadata[POLICIES] as PolicyTable | undefined) ?? null) as PolicyTable);
  const key = tableKey(method, flags.static);
  const inner = Object.hasOwn(own, key) ? (own[key] as MethodPolicies).policies : [];
  own[key] = Object.freeze({
    method,
    static: flags.static,
    private: flags.private,
    policies: Object.freeze([Object.freeze(descriptor), ...inner]),
  });
}

/**
 * Reads the policies recorded on a class, its own and inherited ones.
 *
 * @example
 * policiesOf(Billing);           // [{ method: 'charge', static: false, private: false, policies: [...] }, …]
 * policiesOf(Billing, 'charge'); // [{ kind: 'retry', options: {...} }, { kind: 'circuitBreaker', … }]
 */
export function policiesOf(target: abstract new (...args: never[]) => unknown): readonly MethodPolicies[];
export function policiesOf(
  target: abstract new (...args: never[]) => unknown,
  method: string | symbol,
  options?: { readonly static?: boolean },
): readonly PolicyDescriptor[];
export function policiesOf(
  target: abstract new (...args: never[]) => unknown,
  method?: string | symbol,
  options?: { readonly static?: boolean },
): readonly MethodPolicies[] | readonly PolicyDescriptor[] {
  const table = tableOf(target);
  if (method === undefined) {
    const seen = new Set<string | symbol>();
    const all: MethodPolicies[] = [];
    // Walk the chain by hand: for…in skips symbol keys, and a child's entry hides its parent's.
    for (
      let level: PolicyTable | null | undefined = table;
      level;
      level = Object.getPrototypeOf(level) as PolicyTable | null
    ) {
      for (const key of Reflect.ownKeys(level)) {
        if (seen.has(key)) continue;
        seen.add(key);
        const entry = level[key] as MethodPolicies;
        if (isStillDecorated(target, entry)) all.push(entry);
      }
    }
    return all;
  }
  const entry = table?.[tableKey(method, options?.static === true)];
  return entry !== undefined && isStillDecorated(target, entry) ? entry.policies : [];
}

/** The class's policy table (own or inherited), if any decorator ran. */
export function tableOf(target: object): PolicyTable | undefined {
  const metadata = (target as Record<symbol, MetadataObject | undefined>)[Symbol.metadata];
  return metadata?.[POLICIES] as PolicyTable | undefined;
}

/** Installs a metadata object on a class that has none of its own (legacy decorators get none from the compiler). */
export function ownMetadataOf(constructor: object): MetadataObject {
  const holder = constructor as Record<symbol, MetadataObject | undefined>;
  if (Object.hasOwn(constructor, Symbol.metadata)) return holder[Symbol.metadata] as MetadataObject;
  const metadata = Object.create(holder[Symbol.metadata] ?? null) as MetadataObject;
  Object.defineProperty(constructor, Symbol.metadata, {
    value: metadata,
    enumerable: true,
    configurable: true,
    writable: true,
  });
  return metadata;
}

// An undecorated override in a subclass replaces the wrapper, so the inherited
// entry no longer applies. Private methods cannot be looked up and are trusted.
function isStillDecorated(target: abstract new (...args: never[]) => unknown, entry: MethodPolicies): boolean {
  if (entry.private) return true;
  const holder = (entry.static ? target : target.prototype) as Record<string | symbol, unknown>;
  const fn = holder[entry.method];
  return typeof fn === 'function' && (fn as unknown as Record<symbol, unknown>)[WRAPPED] !== undefined;
}

/** Marks a wrapper made by the interceptor (Symbol.for: shared by ESM and CJS copies). */
export const WRAPPED = Symbol.for('staunch.wrapped');

const WRAPPERS = Symbol.for('staunch.wrappers');

/** Remembers the wrapper of a decorated method, so `circuitOf` finds it (private methods included). */
export function recordWrapper(
  metadata: MetadataObject,
  method: string | symbol,
  isStatic: boolean,
  wrapper: object,
): void {
  const own: Record<string | symbol, object> = Object.hasOwn(metadata, WRAPPERS)
    ? (metadata[WRAPPERS] as Record<string | symbol, object>)
    : (metadata[WRAPPERS] = Object.create((metadata[WRAPPERS] as object | undefined) ?? null) as Record<
        string | symbol,
        object
      >);
  own[tableKey(method, isStatic)] = wrapper;
}

/** The wrapper recorded for a method of `target`'s class (own or inherited), if any. */
export function wrapperOf(target: object, method: string | symbol, isStatic: boolean): unknown {
  const metadata = (target as Record<symbol, MetadataObject | undefined>)[Symbol.metadata];
  const table = metadata?.[WRAPPERS] as Record<string | symbol, object> | undefined;
  return table?.[tableKey(method, isStatic)];
}
