/**
 * The hand-off between the layers of a decorated stack (`@Fallback > @Retry >
 * @CircuitBreaker > @Bulkhead > @Timeout`). Each layer would otherwise react to
 * the promise of the layer inside it, one after the other: a promise and a
 * promise job per layer. Handed off, the layers inside return the method's
 * promise unchanged and leave their bookkeeping in a list; the outermost
 * policy that handles the promise (the consumer) records for all of them in
 * one reaction, inner first, exactly as their own reactions would have.
 *
 * The protocol is synchronous, like `attemptSignal()`: a policy opens the
 * hand-off right before calling its inner step; a layer entered while it is
 * open, and told by the interceptor that its caller is such a policy
 * (`consumed`), may take part: a taker (a breaker, a bulkhead: they only
 * record, and let the outcome through) re-opens it for its own inner step and
 * hands off the promise it gets back; a producer (a timed first attempt)
 * settles its own promise and can run the takers in that settling, one
 * promise job fewer. The consumer, right after its step returned, fuses the
 * takers (and itself) into the producer, or into one reaction on the promise,
 * only if its step returned exactly the promise handed off; otherwise each
 * taker is told to watch that promise itself. A fused consumer whose own
 * caller takes part leaves the producer for it, so a whole stack settles in
 * one reaction.
 */

/** Records the outcome of the call handed off: see {@link HandOffTaker}. */
export const settleHandedOff = Symbol('staunch.settleHandedOff');
/** The hand-off was not taken (or a layer inside replaced the outcome): see {@link HandOffTaker}. */
export const watchHandedOff = Symbol('staunch.watchHandedOff');
/** A producer takes a taker into its settling: see {@link HandOffProducer}. */
export const adoptHandedOff = Symbol('staunch.adoptHandedOff');
/** What {@link HandOffTaker}'s settle returns to let the outcome through unchanged. */
export const PASS: unique symbol = Symbol('staunch.pass');

/** A layer that can leave its bookkeeping of a call to the policy around it. */
export interface HandOffTaker {
  /**
   * The call settled: `ok` with the value `outcome`, else failed with it. Records it and returns
   * {@link PASS} to let it through, or what replaces it (as a `then` handler's return; a throw too).
   */
  [settleHandedOff](ok: boolean, outcome: unknown): unknown;
  /** The layer's step returned `promise`: what the layer returns for it (what it would have without a hand-off). */
  [watchHandedOff](promise: Promise<unknown>): Promise<unknown>;
}

/** A call that settles its own promise and can run the takers of a hand-off in that settling. */
export interface HandOffProducer {
  /** `taker` (inner ones first) records in this call's settling. */
  [adoptHandedOff](taker: HandOffTaker): void;
}

let open = false;
// The promise handed off, its producer if any, and the takers (inner first) waiting for a consumer: the
// first one apart (usually the only one), the others in `more`.
let handed: Promise<unknown> | undefined;
let producer: HandOffProducer | undefined;
let first: HandOffTaker | undefined;
const more: (HandOffTaker | undefined)[] = [];
let count = 0;

/** A policy, right before calling its inner step. */
export function openHandOff(): void {
  open = true;
}

/** Every policy, on entry: whether its caller opened the hand-off (and nothing nested in this call may take it). */
export function enterHandOff(): boolean {
  if (!open) return false;
  open = false;
  return true;
}

/** A taker: hands off `promise`, which it returns unchanged. */
export function handOff(from: HandOffTaker, promise: Promise<unknown>): void {
  if (handed !== promise) {
    // What the slot holds is another call's (one nested in a method body): it records itself.
    if (handed !== undefined) flush();
    handed = promise;
  }
  if (count === 0) first = from;
  else more[count - 1] = from;
  count++;
}

/** A producer: `promise` is settled by `from`, which can run the takers in its settling. */
export function produce(from: HandOffProducer, promise: Promise<unknown>): void {
  if (handed !== undefined) flush();
  producer = from;
  handed = promise;
}

/**
 * A consumer, right after its step returned `result` (or threw: `undefined`):
 * true when takers wait for exactly `result`. Then, at once: {@link fuse}, or
 * when {@link handedToProducer} is false, {@link takeHandedOff}.
 */
export function closeHandOff(result: unknown): boolean {
  open = false;
  if (handed === undefined) return false;
  if (handed === result) return true;
  flush();
  return false;
}

/** After {@link closeHandOff} said true: whether a producer settles the promise (then only {@link fuse} applies). */
export function handedToProducer(): boolean {
  return producer !== undefined;
}

/**
 * After {@link closeHandOff} said true, with no producer: the takers, as one,
 * for the consumer's own reaction to the promise (settle them first in it).
 */
export function takeHandedOff(): HandOffTaker {
  const n = count;
  const taker = first as HandOffTaker;
  handed = undefined;
  first = undefined;
  count = 0;
  // Usually one (a breaker, or a bulkhead): no list.
  if (n === 1) return taker;
  const list = new TakerList();
  list.add(taker);
  for (let i = 1; i < n; i++) {
    list.add(more[i - 1] as HandOffTaker);
    more[i - 1] = undefined;
  }
  return list;
}

/**
 * After {@link closeHandOff} said true: `consumer` (the consumer's own
 * handling) joins the takers, and the promise returned settles after all of
 * them recorded, in one reaction. `pass`: the consumer's own caller takes
 * part (it was entered with the hand-off open, and is consumed): the fused
 * call is left in the slot for it.
 */
export function fuse(consumer: HandOffTaker, pass: boolean): Promise<unknown> {
  let promise = handed as Promise<unknown>;
  let into = producer;
  handed = undefined;
  producer = undefined;
  if (into === undefined) {
    const chain = new HandOffChain();
    promise = promise.then(chain.value, chain.error);
    into = chain;
  }
  const n = count;
  count = 0;
  if (n > 0) into[adoptHandedOff](first as HandOffTaker);
  first = undefined;
  for (let i = 1; i < n; i++) {
    into[adoptHandedOff](more[i - 1] as HandOffTaker);
    more[i - 1] = undefined;
  }
  into[adoptHandedOff](consumer);
  if (pass) {
    producer = into;
    handed = promise;
  }
  return promise;
}

/**
 * Takers in order, inner first: up to four in fields (a decorated stack rarely
 * has more), more in an array. As a taker, it runs them all, and returns
 * {@link PASS} or what replaces the outcome. Once one replaces it, the ones
 * after it watch the replacement, as their own reactions would have.
 */
export class TakerList implements HandOffTaker, HandOffProducer {
  declare n: number;
  declare t0: HandOffTaker | undefined;
  declare t1: HandOffTaker | undefined;
  declare t2: HandOffTaker | undefined;
  declare t3: HandOffTaker | undefined;
  declare more: HandOffTaker[] | undefined;

  constructor() {
    this.n = 0;
    this.t0 = undefined;
    this.t1 = undefined;
    this.t2 = undefined;
    this.t3 = undefined;
    this.more = undefined;
  }

  add(taker: HandOffTaker): void {
    const n = this.n++;
    if (n === 0) this.t0 = taker;
    else if (n === 1) this.t1 = taker;
    else if (n === 2) this.t2 = taker;
    else if (n === 3) this.t3 = taker;
    else (this.more ??= []).push(taker);
  }

  at(i: number): HandOffTaker {
    return (
      i === 0 ? this.t0 : i === 1 ? this.t1 : i === 2 ? this.t2 : i === 3 ? this.t3 : this.more?.[i - 4]
    ) as HandOffTaker;
  }

  [adoptHandedOff](taker: HandOffTaker): void {
    this.add(taker);
  }

  [settleHandedOff](ok: boolean, outcome: unknown): unknown {
    const last = this.n - 1;
    let replaced = false;
    for (let i = 0; i <= last; i++) {
      let next: unknown;
      try {
        next = this.at(i)[settleHandedOff](ok, outcome);
      } catch (error) {
        if (i === last) throw error;
        ok = false;
        outcome = error;
        replaced = true;
        continue;
      }
      if (next === PASS) continue;
      if (i === last) return next;
      let promise = Promise.resolve(next);
      for (let j = i + 1; j <= last; j++) promise = this.at(j)[watchHandedOff](promise);
      return promise;
    }
    if (!replaced) return PASS;
    if (ok) return outcome;
    throw outcome;
  }

  [watchHandedOff](promise: Promise<unknown>): Promise<unknown> {
    for (let i = 0; i < this.n; i++) promise = this.at(i)[watchHandedOff](promise);
    return promise;
  }
}

/** `list` settled (what a `then` handler would return for it). */
function settle(list: TakerList, ok: boolean, outcome: unknown): unknown {
  const next = list[settleHandedOff](ok, outcome);
  if (next !== PASS) return next;
  if (ok) return outcome;
  throw outcome;
}

/** `list` settled, as the value a promise is resolved with: a throw becomes a rejected promise. */
export function settledBy(list: TakerList, ok: boolean, outcome: unknown): unknown {
  try {
    return settle(list, ok, outcome);
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the error as thrown
    return Promise.reject(error);
  }
}

// The fused reaction of a consumer whose step had no producer, left for the policy around: one `then` on
// the method's promise.
class HandOffChain extends TakerList {
  readonly value = (value: unknown): unknown => settle(this, true, value);
  readonly error = (error: unknown): unknown => settle(this, false, error);
}

// The takers waiting were not fused (what the consumer got is not their promise): each watches it alone.
function flush(): void {
  const promise = handed as Promise<unknown>;
  const n = count;
  const taker0 = first;
  handed = undefined;
  producer = undefined;
  first = undefined;
  count = 0;
  for (let i = 0; i < n; i++) {
    const taker = (i === 0 ? taker0 : more[i - 1]) as HandOffTaker;
    if (i > 0) more[i - 1] = undefined;
    const watched = taker[watchHandedOff](promise);
    // Its caller holds `promise` itself and handles it: the taker's own promise is only observed.
    if (watched !== promise) watched.then(undefined, ignore);
  }
}

function ignore(): void {
  // observed only
}
