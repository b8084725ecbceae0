import { reportCallbackError } from './report-callback-error.js';

/** A function called with an event's payload. */
export type Listener<Event> = (event: Event) => void;

/** Removes the listener it was returned for. Calling it twice is harmless. */
export type Unsubscribe = () => void;

/**
 * One small listener API for every policy: `policy.on('retry', (event) => …)`.
 * Emitting costs one property check while nobody listens. A listener that
 * throws does not disturb the policy or the other listeners: its error is
 * reported as a warning (report-callback-error.ts), never re-thrown.
 */
export class Events<EventMap extends object> {
  // Listener arrays are replaced, never mutated, so an emit in progress is not disturbed.
  #listeners: Map<keyof EventMap, readonly Listener<never>[]> | undefined;

  /** Starts calling `listener` for every `type` event; returns the function that stops it. */
  on<K extends keyof EventMap>(type: K, listener: Listener<EventMap[K]>): Unsubscribe {
    const all = (this.#listeners ??= new Map<keyof EventMap, readonly Listener<never>[]>());
    all.set(type, [...(all.get(type) ?? []), listener]);
    return () => {
      const current = all.get(type);
      if (current === undefined) return;
      const next = current.filter((l: Listener<never>) => l !== (listener as Listener<never>));
      if (next.length > 0) all.set(type, next);
      else all.delete(type);
      if (all.size === 0 && this.#listeners === all) this.#listeners = undefined;
    };
  }

  /** True when any listener is registered, for any event: one field read on the hot path. */
  get active(): boolean {
    return this.#listeners !== undefined;
  }

  /** True when at least one listener waits for `type`: build a payload only then. */
  has(type: keyof EventMap): boolean {
    return this.#listeners?.has(type) === true;
  }

  /** Calls every listener of `type` with `event`. */
  emit<K extends keyof EventMap>(type: K, event: EventMap[K]): void {
    const listeners = this.#listeners?.get(type) as readonly Listener<EventMap[K]>[] | undefined;
    if (listeners === undefined) return;
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        reportCallbackError(error, `staunch: a '${String(type)}' event listener`);
      }
    }
  }
}
