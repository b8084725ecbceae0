import { Timeline, describeError, renderEntry, wantsColour } from '../../examples/support/timeline';
import { AttemptTimeoutError } from '@staunch/decorators';

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
});
