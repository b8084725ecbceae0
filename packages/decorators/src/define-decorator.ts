import type { PolicySite } from '@staunch/core';
import { DeferredLayer, buildLayer, type BuildLayer } from './deferred-layer.js';
import { addLayer, planOf, returnsPromises, type AnyMethod, type Layer } from './interceptor.js';
import { ownMetadataOf, ownWrappersOf, recordPolicy, recordWrapper } from './metadata.js';
import { awaitingDefaults, currentDefaults, type DefaultsKind } from './policy-defaults.js';

/** What a decorator knows about the method it decorates. */
export interface DecoratedMethod {
  readonly name: string | symbol;
  readonly static: boolean;
  readonly private: boolean;
  /** '@Retry on charge()', for error messages. */
  readonly label: string;
  /** Where the registry (`livePolicies()`) says the method's policies are; the class name is filled in once known. */
  readonly site: PolicySite;
  /**
   * True when the layer is built only to validate the decorator's own options (while policy
   * defaults are awaited): it is never called, so it must touch no store (nothing else is listed).
   */
  readonly probe: boolean;
}

/**
 * The shell shared by every decorator: checks where it was applied, builds the
 * layer over the policy defaults of its `kind` (validating options, so a bad
 * option fails at class definition and nothing is recorded; while defaults are
 * awaited, validates them and defers the build), records the descriptor and
 * fuses the layer into the method's one wrapper. Works in TC39 mode and under
 * `experimentalDecorators`.
 */
export function defineDecorator<K extends DefaultsKind>(
  decorator: string,
  kind: K,
  build: BuildLayer<K>,
): (...args: unknown[]) => unknown {
  return function decorate(...args: unknown[]): unknown {
    const [value, context, descriptor] = args;
    if (args.length === 2 && isStage3Context(context)) {
      if (context.kind !== 'method') {
        throw new TypeError(
          `${decorator} can only decorate methods, but "${String(context.name)}" is a ${context.kind}.`,
        );
      }
      const method = describe(decorator, context.name, context.static, context.private);
      const metadata = context.metadata as Record<PropertyKey, unknown>;
      learnClassName(context, method.site, metadata);
      return wrap(method, kind, build, metadata, value as AnyMethod, false).wrapper;
    }
    if (args.length === 3 && isLegacyKey(context) && isMethodDescriptor(descriptor)) {
      const isStatic = typeof value === 'function';
      const method = describe(decorator, context, isStatic, false);
      const constructor = isStatic ? (value as object) : (value as { constructor: object }).constructor;
      method.site.class = nameOf(constructor);
      const metadata = ownMetadataOf(constructor);
      const declared = declaredReturnType(value as object, context) === Promise;
      const original = descriptor.value as AnyMethod;
      const { layer, wrapper } = wrap(method, kind, build, metadata, original, declared);
      if (wrapper !== original) carryMethodMetadata(original, wrapper);
      descriptor.value = wrapper;
      mirrorToReflectMetadata(value as object, context, layer, wrapper);
      return descriptor;
    }
    throw new TypeError(
      `${decorator} can only decorate methods. If you wrote \`${decorator}\` without parentheses, write \`${decorator}()\`.`,
    );
  };
}

/**
 * Throws when a decorator factory was itself used as a decorator (`@Retry`
 * instead of `@Retry()`), in either mode and on any class member: transpile-only
 * builds (swc, esbuild, Babel) do not report it, and the decorator it returns
 * would be ignored. Factories pass every argument they got (a rest parameter).
 */
export function assertCalledWithOptions(decorator: string, args: readonly unknown[]): void {
  const [first, second] = args;
  const stage3 = args.length === 2 && isStage3Context(second);
  // Legacy: (prototype or class, key) for a property, plus a descriptor for a method or an accessor.
  // No factory takes a string or a symbol second, so this shape is never a real call.
  const legacy =
    (args.length === 2 || args.length === 3) &&
    isLegacyKey(second) &&
    ((typeof first === 'object' && first !== null) || typeof first === 'function');
  if (stage3 || legacy) {
    throw new TypeError(`${decorator} must be called: write \`${decorator}(…)\`, not \`${decorator}\`.`);
  }
}

// Builds the layer (options validated first: a bad option records nothing), records it, and adds it
// to the method's wrapper. A method returns promises when its stack below says so too: with a
// foreign decorator in between, the staunch wrapper below is not `value` but is recorded.
function wrap<K extends DefaultsKind>(
  method: DecoratedMethod,
  kind: K,
  build: BuildLayer<K>,
  metadata: Record<PropertyKey, unknown>,
  value: AnyMethod,
  declaresPromise: boolean,
): { readonly layer: Layer; readonly wrapper: AnyMethod } {
  const { defaults, by } = currentDefaults();
  const layer = awaitingDefaults()
    ? new DeferredLayer(kind, method, build)
    : buildLayer(kind, method, build, defaults, by);
  recordPolicy(metadata, method.name, method, layer.descriptor);
  layer.register?.(method.site);
  const below = planOf(ownWrappersOf(metadata, method.name, method.static)[0]);
  const wrapper = addLayer(value, layer, declaresPromise || (below !== undefined && returnsPromises(below)));
  if (layer instanceof DeferredLayer) layer.attach(planOf(wrapper) as NonNullable<ReturnType<typeof planOf>>);
  recordWrapper(metadata, method.name, method.static, wrapper);
  return { layer, wrapper };
}

function describe(decorator: string, name: string | symbol, isStatic: boolean, isPrivate: boolean): DecoratedMethod {
  const shown = typeof name === 'symbol' ? `[${name.description ?? 'symbol'}]` : name;
  return {
    name,
    static: isStatic,
    private: isPrivate,
    label: `${decorator} on ${isStatic ? 'static ' : ''}${shown}()`,
    site: { class: undefined, method: shown, name: undefined },
    probe: false,
  };
}

// A TC39 method decorator cannot see its class: its name is learnt from an initializer, which runs once
// the class exists (static methods) or when an instance is made (the others: a no-op after the first).
// The class is the one whose own metadata this is, not a subclass the first instance may belong to.
function learnClassName(context: ClassMemberDecoratorContext, site: PolicySite, metadata: object): void {
  if (typeof context.addInitializer !== 'function') return;
  context.addInitializer(function (this: unknown): void {
    if (site.class !== undefined) return;
    let level: unknown = context.static ? this : (this as { constructor?: unknown } | undefined)?.constructor;
    for (; typeof level === 'function'; level = Object.getPrototypeOf(level)) {
      if (
        Object.hasOwn(level, Symbol.metadata) &&
        (level as unknown as Record<symbol, unknown>)[Symbol.metadata] === metadata
      ) {
        site.class = nameOf(level);
        return;
      }
    }
  });
}

function nameOf(constructor: object): string | undefined {
  const name = (constructor as { readonly name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

function isStage3Context(value: unknown): value is ClassMethodDecoratorContext | ClassMemberDecoratorContext {
  return typeof value === 'object' && value !== null && 'kind' in value && 'metadata' in value;
}

function isLegacyKey(value: unknown): value is string | symbol {
  return typeof value === 'string' || typeof value === 'symbol';
}

function isMethodDescriptor(value: unknown): value is PropertyDescriptor & { value: AnyMethod } {
  return typeof value === 'object' && value !== null && typeof (value as PropertyDescriptor).value === 'function';
}

const REFLECT_KEY = 'staunch:policies';

// reflect-metadata's API, when it is loaded (legacy users: NestJS, TypeORM). Never required: the
// functions are looked up on Reflect, where reflect-metadata installs them.
const reflect = Reflect as unknown as {
  readonly defineMetadata?: (k: unknown, v: unknown, t: object, p?: string | symbol) => void;
  readonly getMetadata?: (k: unknown, t: object, p?: string | symbol) => unknown;
  readonly getOwnMetadata?: (k: unknown, t: object, p?: string | symbol) => unknown;
  readonly getOwnMetadataKeys?: (t: object) => readonly unknown[];
};

// The return type `emitDecoratorMetadata` recorded (`Promise` for `(): Promise<T>`), read when the class is defined.
function declaredReturnType(target: object, key: string | symbol): unknown {
  return typeof reflect.getMetadata === 'function' ? reflect.getMetadata('design:returntype', target, key) : undefined;
}

// Frameworks keep a method's metadata on the method function itself (Nest: route path and verb,
// guards, interceptors, `@SetMetadata`, `@HttpCode`), and a decorator applied before this one
// stored it on the function the wrapper replaces. Carry it over, once, at class definition:
// reflect-metadata entries and own properties the wrapper does not have (never its name, length,
// prototype or staunch's plan). Decorators applied after this one store on the wrapper itself.
function carryMethodMetadata(original: AnyMethod, wrapper: AnyMethod): void {
  for (const key of Reflect.ownKeys(original)) {
    if (Object.hasOwn(wrapper, key)) continue;
    Object.defineProperty(wrapper, key, Object.getOwnPropertyDescriptor(original, key) as PropertyDescriptor);
  }
  if (typeof reflect.getOwnMetadataKeys !== 'function' || typeof reflect.defineMetadata !== 'function') return;
  for (const key of reflect.getOwnMetadataKeys(original)) {
    reflect.defineMetadata(key, reflect.getOwnMetadata?.(key, original), wrapper);
  }
}

// Legacy users (NestJS, TypeORM) read metadata with reflect-metadata; mirror it there when it is
// loaded: on (prototype, method name), and on the method function, where Nest's
// `reflector.get('staunch:policies', context.getHandler())` looks. Every policy of the method,
// outermost first, also when a foreign decorator between two staunch ones made two wrappers.
function mirrorToReflectMetadata(target: object, key: string | symbol, layer: Layer, wrapper: AnyMethod): void {
  if (typeof reflect.defineMetadata !== 'function' || typeof reflect.getOwnMetadata !== 'function') return;
  const inner = (reflect.getOwnMetadata(REFLECT_KEY, target, key) as readonly unknown[] | undefined) ?? [];
  const policies = Object.freeze([layer.descriptor, ...inner]);
  reflect.defineMetadata(REFLECT_KEY, policies, target, key);
  reflect.defineMetadata(REFLECT_KEY, policies, wrapper);
}
