// Every test here starts programs (runtimes, compilers, a browser): give them time on a busy 2-core machine.
jest.setTimeout(60_000);
