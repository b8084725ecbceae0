/**
 * Reports an error thrown by a callback the user gave staunch (an error
 * filter, an `onError` hook, an event listener) without letting it disturb the
 * call, which keeps its own outcome. Never fatal: re-throwing it, even on a
 * later tick, would end a Node process before the caller saw its own error.
 * On Node it is a process warning (printed to stderr with the error's stack;
 * `process.on('warning')` sees `name` 'StaunchWarning' and `code`
 * 'STAUNCH_CALLBACK_FAILED'); elsewhere it goes to `reportError`, as an
 * uncaught error would but without ending anything, or to `console.error`.
 */
export function reportCallbackError(error: unknown, source: string): void {
  const host = globalThis as {
    process?: { emitWarning?: (warning: string, options: object) => void };
    reportError?: (error: unknown) => void;
  };
  if (typeof host.process?.emitWarning === 'function') {
    // A string, not the error object: Node refuses an Error made in another realm (a vm context).
    host.process.emitWarning(`${source} threw, and the call went on without it: ${describeError(error)}`, {
      type: 'StaunchWarning',
      code: 'STAUNCH_CALLBACK_FAILED',
      detail: stackOf(error),
    });
  } else if (typeof host.reportError === 'function') {
    host.reportError(error);
  } else {
    console.error(`${source} threw, and the call went on without it:`, error);
  }
}

function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as Error).message === 'string') {
    const { name, message } = error as Error;
    return typeof name === 'string' && name !== '' ? `${name}: ${message}` : message;
  }
  return String(error);
}

function stackOf(error: unknown): string | undefined {
  const stack = typeof error === 'object' && error !== null ? (error as Error).stack : undefined;
  return typeof stack === 'string' ? stack : undefined;
}
