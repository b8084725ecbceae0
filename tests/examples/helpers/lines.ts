/** Asserts that `expected` appear in `lines` in this order (other lines may come between). */
export function expectInOrder(lines: readonly string[], expected: readonly (string | RegExp)[]): void {
  let from = 0;
  for (const want of expected) {
    const index = lines.findIndex(
      (line, i) => i >= from && (typeof want === 'string' ? line === want : want.test(line)),
    );
    if (index === -1) {
      throw new Error(
        `expected ${String(want)} after line ${from} of the timeline:\n${lines.map((l, i) => `${i}: ${l}`).join('\n')}`,
      );
    }
    from = index + 1;
  }
}
