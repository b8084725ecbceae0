/**
 * Reports an error thrown by user code the library must not let disturb a call
 * (an error filter, a hook, an event listener): it is re-thrown on a later
 * tick, where the process's usual uncaught-error handling sees it, while the
 * call goes on with its own outcome.
 */
export function reportLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
