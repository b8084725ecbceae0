import type { Follower } from './attempt.js';

/**
 * Makes `follower` follow `signal` (not yet aborted): told synchronously, in
 * the signal's own abort dispatch, when it aborts. However many calls follow
 * one signal (a request's signal handed to twenty calls at once), the signal
 * gets one listener, so legitimate fan-out trips no listener-count warning.
 */
export function followSignal(signal: AbortSignal, follower: Follower): void {
  let followers = followersOf.get(signal);
  if (followers === undefined) {
    followersOf.set(signal, (followers = new Set()));
    signal.addEventListener('abort', onAbort);
  }
  followers.add(follower);
}

/** Stops `follower` following `signal`; the last one to stop removes the listener. */
export function unfollowSignal(signal: AbortSignal, follower: Follower): void {
  const followers = followersOf.get(signal);
  if (followers === undefined || !followers.delete(follower) || followers.size > 0) return;
  followersOf.delete(signal);
  signal.removeEventListener('abort', onAbort);
}

// Weak: a signal nobody aborts goes with its last reference, followers and all.
const followersOf = new WeakMap<AbortSignal, Set<Follower>>();

// One listener function for every signal, so adding it twice to one signal adds it once.
function onAbort(event: Event): void {
  const signal = event.target as AbortSignal;
  const followers = followersOf.get(signal);
  if (followers === undefined) return;
  followersOf.delete(signal);
  signal.removeEventListener('abort', onAbort);
  for (const follower of followers) follower.abort(signal.reason);
}
