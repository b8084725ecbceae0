// Real servers and worker processes are slower than the virtual clock: one timeout for every redis test
// and hook (a project's `testTimeout` does not reach them; jest reads it from the global config only).
jest.setTimeout(60_000);
