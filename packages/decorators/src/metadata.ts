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

// Symbol.for keeps the keys identical across the ESM and CJS copies of this package. Static and
// instance methods get tables of their own: they may share a name, and a name may be a symbol,
// so no single key could tell them apart.
const POLICIES = Symbol.for('staunch.policies');
const STATIC_POLICIES = Symbol.for('staunch.staticPolicies');
const WRAPPERS = Symbol.for('staunch.wrappers');
const STATIC_WRAPPERS = Symbol.for('staunch.staticWrappers');

type Table<T> = Record<string | symbol, T>;
type MetadataObject = Record<PropertyKey, unknown>;

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
  const own = ownTable<MethodPolicies>(metadata, flags.static ? STATIC_POLICIES : POLICIES);
  const inner = Object.hasOwn(own, method) ? (own[method] as MethodPolicies).policies : [];
  own[method] = Object.freeze({
    method,
    static: flags.static,
    private: flags.private,
    policies: Object.freeze([Object.freeze(descriptor), ...inner]),
  });
}

/**
 * Reads the policies recorded on a class, its own and inherited ones. Takes the
 * class (whatever its constructor's visibility) or an instance of it.
 *
 * @example
 * policiesOf(Billing);           // [{ method: 'charge', static: false, private: false, policies: [...] }, …]
 * policiesOf(Billing, 'charge'); // [{ kind: 'retry', options: {...} }, { kind: 'circuitBreaker', … }]
 */
export function policiesOf(target: object): readonly MethodPolicies[];
export function policiesOf(
  target: object,
  method: string | symbol,
  options?: { readonly static?: boolean },
): readonly PolicyDescriptor[];
export function policiesOf(
  target: object,
  method?: string | symbol,
  options?: { readonly static?: boolean },
): readonly MethodPolicies[] | readonly PolicyDescriptor[] {
  const owner = classOf(target);
  if (owner === undefined) return [];
  const metadata = metadataOf(owner);
  if (method === undefined) {
    const all: MethodPolicies[] = [];
    for (const key of [POLICIES, STATIC_POLICIES]) {
      const seen = new Set<string | symbol>();
      // Walk the chain by hand: for…in skips symbol keys, and a child's entry hides its parent's.
      for (let level = metadata?.[key] as Table<MethodPolicies> | null | undefined; level;) {
        for (const name of Reflect.ownKeys(level)) {
          if (seen.has(name)) continue;
          seen.add(name);
          const entry = level[name] as MethodPolicies;
          if (isStillDecorated(owner, entry)) all.push(entry);
        }
        level = Object.getPrototypeOf(level) as Table<MethodPolicies> | null;
      }
    }
    return all;
  }
  const table = metadata?.[options?.static === true ? STATIC_POLICIES : POLICIES] as Table<MethodPolicies> | undefined;
  const entry = table?.[method];
  return entry !== undefined && isStillDecorated(owner, entry) ? entry.policies : [];
}

/** The class `target` stands for: itself when it is a class (a function), else its constructor. */
export function classOf(target: object): object | undefined {
  if (typeof target === 'function') return target;
  const constructor = (target as { readonly constructor?: unknown }).constructor;
  return typeof constructor === 'function' ? constructor : undefined;
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

/**
 * Remembers a wrapper staunch made for a method, so `circuitOf` and `policyOf`
 * find its layers (private methods included). A method has several when a
 * foreign decorator sits between staunch decorators: outermost first.
 */
export function recordWrapper(
  metadata: MetadataObject,
  method: string | symbol,
  isStatic: boolean,
  wrapper: object,
): void {
  const known = ownWrappersOf(metadata, method, isStatic);
  if (known[0] !== wrapper) {
    ownTable<readonly object[]>(metadata, isStatic ? STATIC_WRAPPERS : WRAPPERS)[method] = Object.freeze([
      wrapper,
      ...known,
    ]);
  }
}

/**
 * The wrappers recorded for a method by this class level's own decorators,
 * outermost first; none inherited (a subclass's override is a method of its own,
 * whose stack the parent's wrappers are not part of).
 */
export function ownWrappersOf(metadata: MetadataObject, method: string | symbol, isStatic: boolean): readonly object[] {
  const key = isStatic ? STATIC_WRAPPERS : WRAPPERS;
  const own = Object.hasOwn(metadata, key) ? (metadata[key] as Table<readonly object[]>) : undefined;
  return own !== undefined && Object.hasOwn(own, method) ? (own[method] as readonly object[]) : [];
}

/** The wrappers recorded for a method of the class `owner` (own or inherited), outermost first. */
export function wrappersOf(owner: object, method: string | symbol, isStatic: boolean): readonly object[] | undefined {
  const table = metadataOf(owner)?.[isStatic ? STATIC_WRAPPERS : WRAPPERS] as Table<readonly object[]> | undefined;
  return table?.[method];
}

function metadataOf(owner: object): MetadataObject | undefined {
  return (owner as Record<symbol, MetadataObject | undefined>)[Symbol.metadata];
}

// This class level's own table under `key`, made on first write, inheriting the parent's.
function ownTable<T>(metadata: MetadataObject, key: symbol): Table<T> {
  if (Object.hasOwn(metadata, key)) return metadata[key] as Table<T>;
  const table = Object.create((metadata[key] as Table<T> | undefined) ?? null) as Table<T>;
  metadata[key] = table;
  return table;
}

// An entry applies while the class that defines the method (the nearest with it as an own
// property) is the class whose decorators recorded that entry: an undecorated override in a
// subclass replaces the method, and the inherited entry no longer applies. This asks where the
// method is defined, not what it is, so a foreign decorator's wrapper around staunch's changes
// nothing. Private methods cannot be looked up and are trusted.
function isStillDecorated(owner: object, entry: MethodPolicies): boolean {
  if (entry.private) return true;
  for (let level: unknown = owner; typeof level === 'function'; level = Object.getPrototypeOf(level)) {
    const holder: unknown = entry.static ? level : (level as { readonly prototype?: unknown }).prototype;
    if (typeof holder !== 'object' && typeof holder !== 'function') continue;
    if (holder === null || !Object.hasOwn(holder, entry.method)) continue;
    if (!Object.hasOwn(level, Symbol.metadata)) return false;
    const metadata = metadataOf(level) as MetadataObject;
    const key = entry.static ? STATIC_POLICIES : POLICIES;
    if (!Object.hasOwn(metadata, key)) return false;
    const own = metadata[key] as Table<MethodPolicies>;
    return Object.hasOwn(own, entry.method) && own[entry.method] === entry;
  }
  return false;
}
