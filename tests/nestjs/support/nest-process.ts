/**
 * Starts a real NestJS application in a child Node process (see register.cjs for why a child)
 * and stops it by its pid. The app module file exports `createApp()`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface NestProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The version of `@nestjs/core` the app runs on. */
  readonly nestVersion: string;
  /** What the app wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** Closes the app (Nest's shutdown hooks run), then waits for the process to exit. */
  stop(): Promise<void>;
}

/** The Nest majors the tests run on: the current one (the workspace's) and the previous one. */
export const nestMajors = [12, 11] as const;
export type NestMajor = (typeof nestMajors)[number];

const nest11 = join(__dirname, '../nest11/node_modules/@nestjs/core/package.json');

export interface NestProcessOptions {
  /** Which Nest to run the app on. Default 12 (the workspace's); 11 comes from tests/nestjs/nest11. */
  readonly major?: NestMajor;
  /** Extra environment for the child. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long the app may take to start, ms. Default 60,000 (ts-node compiles the sources first). */
  readonly startTimeout?: number;
}

export async function startNestApp(appFile: string, options: NestProcessOptions = {}): Promise<NestProcess> {
  const major = options.major ?? 12;
  if (major === 11 && !existsSync(nest11)) {
    throw new Error('Nest 11 is not installed: run `npm run test:setup` (npm ci in tests/nestjs/nest11).');
  }
  const child = fork(join(__dirname, 'serve.ts'), [appFile], {
    execArgv: ['-r', join(__dirname, 'register.cjs'), '--no-warnings=ExperimentalWarning'],
    env: { ...process.env, ...options.env, STAUNCH_NEST_MAJOR: String(major) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    const { port, nest } = await started(child, options.startTimeout ?? 60_000, () => output);
    return {
      url: `http://127.0.0.1:${port}`,
      nestVersion: nest,
      output: () => output,
      stop: () => stop(child),
    };
  } catch (error) {
    await stop(child);
    throw error;
  }
}

function started(child: ChildProcess, timeout: number, output: () => string): Promise<{ port: number; nest: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`the Nest app did not start in ${timeout} ms:\n${output()}`)),
      timeout,
    );
    const onMessage = (message: unknown): void => {
      const report = message as { port?: number; nest?: string; error?: string };
      const { port, nest } = report;
      if (typeof port === 'number' && typeof nest === 'string') done(() => resolve({ port, nest }));
      else fail(new Error(`the Nest app failed to start: ${report.error ?? ''}\n${output()}`));
    };
    const onExit = (code: number | null): void => fail(new Error(`the Nest app exited (${code}):\n${output()}`));
    function done(then: () => void): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      then();
    }
    function fail(error: Error): void {
      done(() => reject(error));
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  if (child.connected) child.send('close');
  else process.kill(child.pid as number, 'SIGTERM');
  const timer = setTimeout(() => process.kill(child.pid as number, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
