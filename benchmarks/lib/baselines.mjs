// The hand-written code every scenario is held against: what a careful engineer writes
// without a library. Kept as small and direct as such code is in the wild.

import { setTimeout as sleep } from 'node:timers/promises';

/** The value every measured function resolves with. */
export const VALUE = 42;

/** The wrapped function: an async function that resolves at once, as cheap as an async call gets. */
export async function work() {
  return VALUE;
}

/** An error made once; throwing it costs no stack capture. */
export const prebuiltError = new Error('prebuilt');

/** The rejection baseline: an async function that throws a prebuilt Error. */
export async function throwPrebuilt() {
  throw prebuiltError;
}

/** A hand-written try/await retry loop: `times` calls in all, `interval` ms apart. */
export async function retryLoop(fn, times, interval) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= times) throw error;
      await sleep(interval);
    }
  }
}

/** A hand-written fallback: the caller's own try/await/catch around the call. */
export async function tryCatchFallback(fn, fallbackValue) {
  try {
    return await fn();
  } catch {
    return fallbackValue;
  }
}

/** A hand-written consecutive-failure breaker: opens after `threshold` failures in a row. */
export class HandBreaker {
  failures = 0;
  openedAt = -Infinity;

  constructor(threshold, resetTimeout) {
    this.threshold = threshold;
    this.resetTimeout = resetTimeout;
  }

  async call(fn) {
    if (this.failures >= this.threshold) {
      if (performance.now() - this.openedAt < this.resetTimeout) throw new Error('circuit open');
      this.failures = this.threshold - 1; // half-open: one more failure re-opens it
    }
    try {
      const value = await fn();
      this.failures = 0;
      return value;
    } catch (error) {
      if (++this.failures >= this.threshold) this.openedAt = performance.now();
      throw error;
    }
  }
}

/** A hand-written token bucket: `capacity` tokens, refilled at `capacity` per `perMs`, computed on each call. */
export class HandBucket {
  constructor(capacity, perMs) {
    this.capacity = capacity;
    this.tokens = capacity;
    this.rate = capacity / perMs;
    this.last = performance.now();
  }

  async call(fn) {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.rate);
    this.last = now;
    if (this.tokens < 1) throw new Error('rate limited');
    this.tokens -= 1;
    return fn();
  }
}
