// Small helpers for the per-call paths, each worth its cost in a measurement on Node 20
// (see BENCHMARKS.md): they replace a builtin that V8 cannot inline or that Node tracks.

/**
 * `fn.apply(thisArg, args)` with the short argument lists spelled out as
 * `fn.call`: V8 can inline a `call` into the caller, not an `apply`, and on the
 * decorated hot path that is ~20 ns per call (measured on Node 20).
 */
export function invoke<This, Args extends readonly unknown[], R>(
  fn: (this: This, ...args: Args) => R,
  thisArg: This,
  args: Args,
): R {
  const f = fn as unknown as (this: This, ...args: readonly unknown[]) => R;
  switch (args.length) {
    case 0:
      return f.call(thisArg);
    case 1:
      return f.call(thisArg, args[0]);
    case 2:
      return f.call(thisArg, args[0], args[1]);
    default:
      return f.apply(thisArg, args as unknown as unknown[]);
  }
}

/**
 * `Promise.resolve(value)` without the builtin call when `value` already is a
 * plain native promise (the usual case: an async function's result), which
 * saves ~15 ns per call on Node 20. Subclass instances and other thenables go
 * through `Promise.resolve` as before.
 */
export function promiseOf<T>(value: PromiseLike<T>): Promise<T> {
  return isNativePromise(value) ? (value as Promise<T>) : Promise.resolve(value);
}

/** A plain native promise (not a subclass): the usual result, recognised without reading `then`. */
export function isNativePromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise && value.constructor === Promise;
}

/** Anything with a callable `then`, as `await` and `Promise.resolve` treat it. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    ((typeof value === 'object' && value !== null) || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * A promise that rejects with `error` one promise job from now, instead of
 * `Promise.reject(error)`. Node does bookkeeping for every promise rejected
 * while it has no handler (unhandled-rejection tracking: ~1 µs per rejection
 * on Node 20, more than the rest of a rejected call); a caller that awaits the
 * result at once has attached its handler by then. For rejections made in bulk,
 * such as calls refused by an open circuit.
 */
export function rejectSoon(error: unknown): Promise<never> {
  const promise = new Promise<never>(captureReject);
  rejections.push(captured, error);
  if (!flushQueued) {
    flushQueued = true;
    void settled.then(flushRejections);
  }
  return promise;
}

// Pairs of (reject, reason), flushed by one promise job (not queueMicrotask: fake timers replace it).
let rejections: unknown[] = [];
const settled = Promise.resolve();
let flushQueued = false;
let captured: ((reason: unknown) => void) | undefined;

function captureReject(_resolve: unknown, reject: (reason: unknown) => void): void {
  captured = reject;
}

function flushRejections(): void {
  flushQueued = false;
  const due = rejections;
  rejections = [];
  for (let i = 0; i < due.length; i += 2) (due[i] as (reason: unknown) => void)(due[i + 1]);
}
