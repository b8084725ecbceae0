import { Timeline, describeError, renderEntry, wantsColour } from '../../examples/support/timeline';
import {
  AttemptTimeoutError,
  BulkheadRejectedError,
  CallTimeoutError,
  bulkheadPolicy,
  fallbackPolicy,
} from '@staunch/decorators';

describe('examples/support/timeline', () => {
  it('colours only a terminal, and never with a non-empty NO_COLOR', () => {
    expect(wantsColour({ isTTY: true }, {})).toBe(true);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour({ isTTY: false }, {})).toBe(false);
    expect(wantsColour({}, {})).toBe(false);
  });

  it('renders a timestamped line, with ANSI codes only when asked', () => {
    const entry = { at: 1_234, mark: 'retry', text: 'getUser: attempt 1 failed' } as const;
    expect(renderEntry(entry, false)).toBe('  1.234s  ↻ getUser: attempt 1 failed');
    expect(renderEntry(entry, true)).toBe('\x1b[2m  1.234s\x1b[0m  \x1b[33m↻ getUser: attempt 1 failed\x1b[0m');
    expect(renderEntry({ at: 0, mark: 'step', text: 'Outage' }, false)).toBe('\n▶ Outage');
  });

  it('describes errors by summary, SQLSTATE, or message', () => {
    expect(describeError({ summary: 'HTTP 503', message: 'long' })).toBe('HTTP 503');
    expect(describeError({ code: '40001', message: 'could not serialize' })).toBe(
      'SQLSTATE 40001: could not serialize',
    );
    expect(describeError(new AttemptTimeoutError(250, 2))).toBe('timed out after 250 ms');
    expect(describeError(new CallTimeoutError(300))).toBe('CallTimeoutError after 300 ms');
    expect(describeError(new BulkheadRejectedError(2, 2, 'maxWait', 250))).toBe('BulkheadRejectedError (maxWait)');
    expect(describeError(new Error('plain'))).toBe('plain');
    expect(describeError('thrown string')).toBe('thrown string');
  });

  it('counts calls by how they ended, and never throws from call()', async () => {
    const timeline = new Timeline();
    await timeline.call('good', async () => 1);
    const bad = await timeline.call('bad', () => Promise.reject(new Error('no')));
    expect(bad).toEqual({ ok: false, error: new Error('no') });
    expect(timeline.tally).toMatchObject({ calls: 2, successes: 1, failures: 1 });
    expect(timeline.lines).toEqual(['good', 'good → 1', 'bad', 'bad → failed: no']);
  });

  it('logs a bulkhead queueing and turning calls away, and the fallback answering them', async () => {
    const timeline = new Timeline();
    const bulkhead = bulkheadPolicy({ limit: 1, queue: 1 });
    const fallback = fallbackPolicy('cached', { on: BulkheadRejectedError });
    timeline.watchBulkhead(bulkhead, 'load');
    timeline.watchFallback(fallback, 'load');
    let release: () => void = () => undefined;
    const slow = () => new Promise<string>((resolve) => (release = () => resolve('live')));
    const fast = async () => 'live';
    const running = bulkhead.call(slow, undefined, []);
    const queued = bulkhead.call(fast, undefined, []);
    const turnedAway = await fallback.call(() => bulkhead.call(fast, undefined, []), undefined, []);
    release();
    expect([await running, await queued, turnedAway]).toEqual(['live', 'live', 'cached']);
    expect(timeline.lines).toEqual([
      'load: every slot busy, waits in the queue (1 waiting)',
      'load: bulkhead full (1 running, 1 waiting), rejected without running',
      'load: BulkheadRejectedError (full), the fallback answers',
    ]);
    expect(timeline.tally.fastFailures).toBe(1);
    timeline.close();
  });
});
