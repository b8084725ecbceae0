import type { PolicySite } from '@staunch/core';
import type { PolicyDescriptor } from './descriptors.js';

/** A method as the interceptor sees it: `this` and arguments are passed through untouched. */
export type AnyMethod = (this: unknown, ...args: never[]) => unknown;

/**
 * One policy applied around the next step. `run` must call `next` with
 * `self` and `args` unchanged (once per attempt). `inner` is true when an
 * outer layer's policy receives (and always handles) what `run` returns.
 */
export interface Layer {
  readonly descriptor: PolicyDescriptor;
  run(next: AnyMethod, self: unknown, args: unknown[], inner?: boolean): unknown;
  /** `run` with `next` fixed, when the layer can make it one call shorter (as the outermost layer). */
  bind?(next: AnyMethod): ((self: unknown, args: unknown[]) => unknown) | undefined;
  /** True when what `bind` returns never throws for an `async` `next` (it rejects instead). */
  readonly bindRejectsForAsync?: boolean;
  /** The layer as an inner step: a method-shaped function running `run(next, this, args, true)`. */
  step?(next: AnyMethod): AnyMethod | undefined;
  /** True when `run` always returns a promise and never throws (the async-only policies). */
  readonly returnsPromise?: boolean;
  /** Lists the layer's policies in the registry (`livePolicies()`) under the decorated method's `site`. */
  register?(site: PolicySite): void;
}

/** The live state behind one wrapper: its layers, outermost first, and the original method. */
export interface Plan {
  readonly method: AnyMethod;
  /** The wrapper this plan runs behind: the only function {@link planOf} accepts it from. */
  readonly wrapper: AnyMethod;
  readonly layers: Layer[];
  /** The method is known to return promises: it is `async`, or see {@link addLayer}'s `declaresPromise`. */
  readonly declaresPromise: boolean;
  /** Runs the whole stack; rebuilt whenever a layer is added (at class definition, never per call). */
  head: (self: unknown, args: unknown[]) => unknown;
}

/** What a plan's head is compiled from. */
type Stack = Pick<Plan, 'method' | 'layers' | 'declaresPromise'>;

/**
 * Adds `layer` as the new outermost policy of `method`. The first decorator
 * makes the one wrapper; each decorator above it only adds a layer to the same
 * wrapper, so a stack of decorators costs one function call, not a chain.
 * `declaresPromise`: `method` is known to return promises though it may not be
 * `async` — its declared return type is `Promise` (legacy `design:returntype`),
 * or it is a foreign decorator's wrapper around a staunch stack that does.
 */
export function addLayer<M extends AnyMethod>(method: M, layer: Layer, declaresPromise = false): M {
  const existing = planOf(method);
  if (existing !== undefined) {
    existing.layers.unshift(layer);
    existing.head = compile(existing);
    return method;
  }
  // `arguments`, not a rest parameter: a call without arguments shares one frozen
  // empty array instead of allocating one (layers only pass `args` on to the method).
  const wrapper = function (this: unknown): unknown {
    // eslint-disable-next-line prefer-rest-params
    return plan.head(this, argsOf(arguments));
  };
  const stack = { method, layers: [layer], declaresPromise: declaresPromise || isAsyncFunction(method) };
  const plan: Plan = { ...stack, wrapper, head: compile(stack) };
  Object.defineProperty(wrapper, 'name', { value: method.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: method.length, configurable: true });
  Object.defineProperty(wrapper, PLAN, { value: plan });
  return wrapper as unknown as M;
}

const noArgs: unknown[] = Object.freeze([]) as unknown as unknown[];

/** Recompiles `plan`'s head after its layers changed (a deferred layer swapped for the built one). */
export function recompile(plan: Plan): void {
  plan.head = compile(plan);
}

/** A call's arguments as an array: the shared empty one when there are none. */
export function argsOf(given: IArguments): unknown[] {
  return given.length === 0 ? noArgs : (Array.prototype.slice.call(given) as unknown[]);
}

/**
 * The plan behind a wrapper made by {@link addLayer}, if `fn` is that wrapper.
 * A foreign decorator that copies a method's own properties onto its own
 * wrapper (`mimic-function`) copies the marker too: identity tells them apart,
 * so a staunch decorator above it starts a new wrapper around it instead of
 * fusing into the stack below, and the foreign wrapper runs once per attempt.
 */
export function planOf(fn: unknown): Plan | undefined {
  if (typeof fn !== 'function') return undefined;
  const plan = (fn as unknown as Record<symbol, Plan | undefined>)[PLAN];
  return plan !== undefined && plan.wrapper === fn ? plan : undefined;
}

/** True when the method behind `plan` returns promises: its failures must all arrive as rejections. */
export function returnsPromises(plan: Stack): boolean {
  return plan.declaresPromise || plan.layers.some((layer) => layer.returnsPromise === true);
}

// Symbol.for: a wrapper made by the ESM copy of this package is recognised by the CJS copy.
const PLAN = Symbol.for('staunch.wrapped');

// Builds the call chain once: each step is a plain function that hands the
// next step to its layer, so a call allocates nothing but the arguments array.
//
// Sync or async is decided here, once per method: a method that returns
// promises (async, declared `Promise`, or with a layer that always returns
// one) reports every failure as a rejection. A layer that can throw (a
// breaker: open circuit, `key` function, `this` of a per-instance circuit)
// throws synchronously; inner steps may, because the policy above them
// handles a throw as any failure, but the head turns it into a rejection.
function compile(stack: Stack): (self: unknown, args: unknown[]) => unknown {
  const layers = stack.layers;
  let next = stack.method;
  for (let i = layers.length - 1; i > 0; i--) {
    const layer = layers[i] as Layer;
    const inner = next;
    next =
      layer.step?.(inner) ??
      function (this: unknown): unknown {
        // eslint-disable-next-line prefer-rest-params
        return layer.run(inner, this, argsOf(arguments), true);
      };
  }
  const outer = layers[0] as Layer;
  const first = next;
  const bound = outer.bind?.(first);
  if (bound !== undefined && outer.bindRejectsForAsync === true && isAsyncFunction(first)) return bound;
  const head = bound ?? ((self, args) => outer.run(first, self, args));
  if (!returnsPromises(stack) || outer.returnsPromise === true) return head;
  // try/catch costs nothing until something throws: the closed path stays as it was.
  return (self, args) => {
    try {
      return head(self, args);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the error as thrown
      return Promise.reject(error);
    }
  };
}

function isAsyncFunction(fn: AnyMethod): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncFunction]';
}
