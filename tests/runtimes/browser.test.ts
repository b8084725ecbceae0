/**
 * A real browser: Debian's `chromium` (`.ci/run` installs it), headless, driven by playwright-core
 * (no browser download: `executablePath`). Each page is served by the test's own loopback server
 * and runs the one scenario against that server; the report is read back from the page. Two
 * ways in: an esbuild bundle, and the packages' unbundled ES modules through an import map (any
 * Node built-in in @staunch/core or @staunch/decorators would fail to resolve there).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium, type BrowserContext } from 'playwright-core';

import { appDir, bin } from './support/paths';
import { allPassed, type Report } from './support/report';
import { run } from './support/run';
import { startServer, type LoopbackServer } from './support/server';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// No first-run UI, no background traffic of the browser's own (updates, sync, field trials, QUIC).
const flags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let server: LoopbackServer;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  await run(
    bin('esbuild'),
    ['src/browser.ts', '--bundle', '--format=esm', '--target=es2022', '--outdir=out/esbuild-browser'],
    { cwd: appDir },
  );
  server = await startServer(appDir);
  profile = mkdtempSync(join(tmpdir(), 'staunch-chromium-'));
  browser = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: flags });
}, 60_000);

afterAll(async () => {
  await browser.close();
  await server.close();
  rmSync(profile, { recursive: true, force: true });
});

/** Opens a page of the app and waits for the scenario's report (or the page's first error). */
async function reportOf(path: string): Promise<Report> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  try {
    await page.goto(`${server.url}${path}`);
    const done = await page
      .waitForFunction(() => (globalThis as { staunchReport?: unknown }).staunchReport, null, { timeout: 15_000 })
      .then(
        () => true,
        () => false,
      );
    if (!done) return { errors };
    return await page.evaluate(() => (globalThis as { staunchReport?: Report }).staunchReport ?? {});
  } finally {
    await page.close();
  }
}

describe('Chromium (Debian’s package, headless)', () => {
  it('is Chromium', () => {
    expect(browser.browser()?.version()).toMatch(/^\d+\./);
  });

  it('runs the scenario from an esbuild bundle (--bundle --format=esm --target=es2022)', async () => {
    expect(await reportOf('/pages/bundled.html')).toEqual(allPassed);
  });

  it('runs the scenario from the unbundled ES modules of the packages, through an import map', async () => {
    expect(await reportOf('/pages/import-map.html')).toEqual(allPassed);
  });
});
