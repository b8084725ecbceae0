import { WRAPPED } from './metadata.js';
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
  /** The layer as an inner step: a method-shaped function running `run(next, this, args, true)`. */
  step?(next: AnyMethod): AnyMethod | undefined;
  /** True when `run` always returns a promise (the async-only policies). */
  readonly returnsPromise?: boolean;
}

/** The live state behind one wrapper: its layers, outermost first, and the original method. */
export interface Plan {
  readonly method: AnyMethod;
  readonly layers: Layer[];
  /** Runs the whole stack; rebuilt whenever a layer is added (at class definition, never per call). */
  head: (self: unknown, args: unknown[]) => unknown;
}

/**
 * Adds `layer` as the new outermost policy of `method`. The first decorator
 * makes the one wrapper; each decorator above it only adds a layer to the same
 * wrapper, so a stack of decorators costs one function call, not a chain.
 */
export function addLayer<M extends AnyMethod>(method: M, layer: Layer): M {
  const existing = planOf(method);
  if (existing !== undefined) {
    existing.layers.unshift(layer);
    existing.head = compile(existing.method, existing.layers);
    return method;
  }
  const plan: Plan = { method, layers: [layer], head: compile(method, [layer]) };
  // `arguments`, not a rest parameter: a call without arguments shares one frozen
  // empty array instead of allocating one (layers only pass `args` on to the method).
  const wrapper = function (this: unknown): unknown {
    // eslint-disable-next-line prefer-rest-params
    return plan.head(this, argsOf(arguments));
  };
  Object.defineProperty(wrapper, 'name', { value: method.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: method.length, configurable: true });
  Object.defineProperty(wrapper, WRAPPED, { value: plan });
  return wrapper as unknown as M;
}

const noArgs: unknown[] = Object.freeze([]) as unknown as unknown[];

/** A call's arguments as an array: the shared empty one when there are none. */
export function argsOf(given: IArguments): unknown[] {
  return given.length === 0 ? noArgs : (Array.prototype.slice.call(given) as unknown[]);
}

/** The plan behind a wrapper made by {@link addLayer}, if `fn` is one. */
export function planOf(fn: unknown): Plan | undefined {
  return typeof fn === 'function'
    ? ((fn as unknown as Record<symbol, Plan | undefined>)[WRAPPED] ?? undefined)
    : undefined;
}

// Builds the call chain once: each step is a plain function that hands the
// next step to its layer, so a call allocates nothing but the arguments array.
// A layer above another sees a compiled step, which a circuit breaker cannot
// tell from a sync method: when the stack below returns promises, a synchronous
// throw there (an open circuit) is turned into a rejection, as the method is async.
function compile(method: AnyMethod, layers: readonly Layer[]): (self: unknown, args: unknown[]) => unknown {
  const last = layers.length - 1;
  let next = method;
  let promisesBelow = isAsyncFunction(method);
  for (let i = last; i > 0; i--) {
    const layer = layers[i] as Layer;
    const inner = next;
    const step =
      layer.step?.(inner) ??
      function (this: unknown): unknown {
        // eslint-disable-next-line prefer-rest-params
        return layer.run(inner, this, argsOf(arguments), true);
      };
    next = i < last && promisesBelow && layer.returnsPromise !== true ? rejectingSyncThrows(step) : step;
    promisesBelow ||= layer.returnsPromise === true;
  }
  const outer = layers[0] as Layer;
  const first = next;
  const head = outer.bind?.(first) ?? ((self, args) => outer.run(first, self, args));
  if (last === 0 || !promisesBelow || outer.returnsPromise === true) return head;
  return (self, args) => {
    try {
      return head(self, args);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the error as thrown
      return Promise.reject(error);
    }
  };
}

function rejectingSyncThrows(step: AnyMethod): AnyMethod {
  return function (this: unknown): unknown {
    try {
      // eslint-disable-next-line prefer-rest-params
      return step.apply(this, arguments as unknown as never[]);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the error as thrown
      return Promise.reject(error);
    }
  };
}

function isAsyncFunction(fn: AnyMethod): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncFunction]';
}
