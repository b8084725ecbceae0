/** One warning staunch emitted for a callback of the user's that threw. */
export interface ReportedWarning {
  readonly message: string;
  readonly type: unknown;
  readonly code: unknown;
  /** The callback error's stack. */
  readonly detail: unknown;
}

/**
 * Collects the warnings the library emits for a broken filter, hook or
 * listener (`process.emitWarning`), instead of letting Node print them.
 * Call `restore()` in `finally`.
 */
export function collectReported(): { readonly reported: ReportedWarning[]; restore(): void } {
  const reported: ReportedWarning[] = [];
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error, options?: unknown) => {
    const { type, code, detail } = (options ?? {}) as { type?: unknown; code?: unknown; detail?: unknown };
    reported.push({ message: String(warning), type, code, detail });
  });
  return {
    reported,
    restore: () => {
      spy.mockRestore();
    },
  };
}

/** What a report of `error` carries to tell which error it was: its stack. */
export const reportOf = (error: Error): unknown => error.stack;
