/**
 * Collects what the library re-throws on a later tick: its way of reporting a
 * broken filter, hook or listener to the process's uncaught-error handling.
 *
 * Why not a real `process.on('uncaughtException')` listener: jest gives each
 * test file its own `process` object, and the process's real handler is jest's
 * own, which fails the test. So `queueMicrotask` is wrapped instead: the
 * library's callback still runs on the microtask queue, later, and what it
 * throws is collected rather than reaching jest. Call `restore()` in `finally`.
 */
export function collectReported(): { readonly reported: unknown[]; restore(): void } {
  const reported: unknown[] = [];
  const original = globalThis.queueMicrotask;
  const spy = jest.spyOn(globalThis, 'queueMicrotask').mockImplementation((callback) => {
    original(() => {
      try {
        callback();
      } catch (error) {
        reported.push(error);
      }
    });
  });
  return {
    reported,
    restore: () => {
      spy.mockRestore();
    },
  };
}
