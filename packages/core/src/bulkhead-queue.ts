/**
 * The bulkhead's rule, pure: what happens to an arriving call, decided from
 * the counts alone, and the FIFO queue of waiting calls (any of which can
 * leave early, when its caller aborts or its `maxWait` passes). The policy
 * (bulkhead.ts) is the thin part around it: timers, signals, promises.
 */

/**
 * What a bulkhead does with an arriving call: `'run'` it now, let it `'wait'`
 * for a slot, or reject it because the queue is `'full'` or because it may not
 * wait at all (`'maxWait'`: `maxWait` is 0).
 */
export type Admission = 'run' | 'wait' | 'full' | 'maxWait';

/**
 * The admission of a call arriving while `active` calls run and `waiting`
 * wait. A call runs only when a slot is free and nobody waits (first come,
 * first served: no overtaking the queue); otherwise it waits if the queue has
 * room and it may wait at all (`maxWait` > 0), else it is rejected.
 */
export function admission(active: number, waiting: number, limit: number, queue: number, maxWait: number): Admission {
  if (active < limit && waiting === 0) return 'run';
  if (waiting >= queue) return 'full';
  return maxWait > 0 ? 'wait' : 'maxWait';
}

/** True when the call at the head of the queue may start now: a slot is free and someone waits. */
export function mayAdmitNext(active: number, waiting: number, limit: number): boolean {
  return active < limit && waiting > 0;
}

/** A waiting call, as the queue links it: the queue owns these two fields. */
export interface QueueNode {
  /** The node behind it; `undefined` at the tail. @internal */
  next: QueueNode | undefined;
  /** The node before it; `undefined` at the head. @internal */
  previous: QueueNode | undefined;
}

/**
 * First in, first out, with removal from anywhere in O(1): the nodes link
 * themselves (no array to splice, no allocation per entry beyond the node).
 */
export class WaitQueue<Node extends QueueNode> {
  #head: Node | undefined;
  #tail: Node | undefined;
  #size = 0;

  /** How many nodes wait. */
  get size(): number {
    return this.#size;
  }

  /** Adds `node` at the tail. */
  push(node: Node): void {
    node.next = undefined;
    node.previous = this.#tail;
    if (this.#tail === undefined) this.#head = node;
    else this.#tail.next = node;
    this.#tail = node;
    this.#size++;
  }

  /** The head, left in place; `undefined` when empty. */
  peek(): Node | undefined {
    return this.#head;
  }

  /** Removes and returns the head; `undefined` when empty. */
  shift(): Node | undefined {
    const node = this.#head;
    if (node !== undefined) this.remove(node);
    return node;
  }

  /** Removes `node`, wherever it is. Returns false when it was not queued (already removed). */
  remove(node: Node): boolean {
    const { previous, next } = node;
    if (previous === undefined && this.#head !== node) return false;
    if (previous === undefined) this.#head = next as Node | undefined;
    else previous.next = next;
    if (next === undefined) this.#tail = previous as Node | undefined;
    else next.previous = previous;
    node.next = node.previous = undefined;
    this.#size--;
    return true;
  }

  /** The nodes from head to tail (for tests and inspection). */
  *[Symbol.iterator](): IterableIterator<Node> {
    for (let node = this.#head; node !== undefined; node = node.next as Node | undefined) yield node;
  }
}
