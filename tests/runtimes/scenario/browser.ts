// Entry for the browser page: runs the scenario against the page's own origin (the test's loopback
// server) and leaves the report on `window.staunchReport`, where the test reads it back.
import { runScenario } from './scenario.js';

const page = globalThis as { location?: { origin: string }; staunchReport?: unknown };

void runScenario(page.location?.origin ?? '').then(
  (checks) => {
    page.staunchReport = checks;
  },
  (error: unknown) => {
    page.staunchReport = { error: error instanceof Error ? error.stack : String(error) };
  },
);
