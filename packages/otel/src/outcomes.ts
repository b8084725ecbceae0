/** How many calls of one policy ended one way, from its statistics. */
export type OutcomeCount = (statistics: Readonly<Record<string, number>>) => number;

// Every attempt policy counts calls the same way; a call its retry budget ended is a failure of its own
// outcome (`budget_exhausted`), so the outcomes still add up to the calls that ended.
const attemptOutcomes: Readonly<Record<string, OutcomeCount>> = {
  success: (s) => s.successes ?? 0,
  failure: (s) => (s.failures ?? 0) - (s.budgetExhausted ?? 0),
  budget_exhausted: (s) => s.budgetExhausted ?? 0,
};

/**
 * The `staunch.outcome` values of `staunch.calls`, per policy kind, read from
 * the statistics each kind keeps. A new kind is one entry here.
 */
export const outcomesByKind: Readonly<Record<string, Readonly<Record<string, OutcomeCount>>>> = Object.freeze({
  retry: attemptOutcomes,
  poll: attemptOutcomes,
  asyncBackoff: attemptOutcomes,
  asyncRetry: attemptOutcomes,
  timeout: {
    success: (s) => s.successes ?? 0,
    timeout: (s) => s.timeouts ?? 0,
    failure: (s) => (s.failures ?? 0) - (s.timeouts ?? 0),
  },
  circuitBreaker: {
    success: (s) => s.successes ?? 0,
    failure: (s) => s.failures ?? 0,
    ignored_error: (s) => s.ignoredErrors ?? 0,
    rejected: (s) => s.rejections ?? 0,
    aborted: (s) => s.aborted ?? 0,
  },
  bulkhead: {
    admitted: (s) => s.admitted ?? 0,
    rejected: (s) => s.rejected ?? 0,
    aborted: (s) => s.aborted ?? 0,
  },
  rateLimit: {
    admitted: (s) => s.admitted ?? 0,
    rejected: (s) => s.rejected ?? 0,
    aborted: (s) => s.aborted ?? 0,
  },
  hedge: {
    success: (s) => s.successes ?? 0,
    failure: (s) => s.failures ?? 0,
  },
  fallback: {
    success: (s) => s.successes ?? 0,
    fallback: (s) => s.fallbacks ?? 0,
    failure: (s) => s.failures ?? 0,
  },
});

/** The circuit states reported by `staunch.circuit.state`, each 1 or 0 (or a count, for a scope of many). */
export const circuitStates = Object.freeze(['closed', 'open', 'half-open', 'isolated'] as const);
