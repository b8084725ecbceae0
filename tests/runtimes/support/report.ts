/** The scenario's report: check name → `true` when the rule held, otherwise what was seen. */
export type Report = Record<string, unknown>;

/** The scenario's rules, by name: every runtime must report all of them, each `true`. */
export const scenarioChecks = [
  'retry: 2 failures, then the result',
  'retry: recorded as metadata',
  'circuit: opens after 2 failures',
  'circuit: rejects while open, without calling',
  'circuit: a trial after resetTimeout closes it',
  'poll: calls until the predicate holds',
  'timeout: the attempt times out with AttemptTimeoutError',
  'timeout: the call ends at once',
  'timeout: the fetch is aborted (the server sees the request closed)',
];

/** The last line of a program's output, read as the report. */
export function parseReport(stdout: string): Report {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Report;
  } catch {
    return { output: stdout };
  }
}

/** Every check with what it saw: `toEqual(allPassed)` shows what failed, by name. */
export const allPassed: Report = Object.fromEntries(scenarioChecks.map((name) => [name, true]));
