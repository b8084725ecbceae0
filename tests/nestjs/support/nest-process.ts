/**
 * Starts a real NestJS application in a child Node process (see register.cjs for why a child)
 * and stops it by its pid. The app module file exports `createApp()`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

export interface NestProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** What the app wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** Closes the app (Nest's shutdown hooks run), then waits for the process to exit. */
  stop(): Promise<void>;
}

export interface NestProcessOptions {
  /** Extra environment for the child. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long the app may take to start, ms. Default 30,000. */
  readonly startTimeout?: number;
}

export async function startNestApp(appFile: string, options: NestProcessOptions = {}): Promise<NestProcess> {
  const child = fork(join(__dirname, 'serve.ts'), [appFile], {
    execArgv: ['-r', join(__dirname, 'register.cjs'), '--no-warnings=ExperimentalWarning'],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    const port = await firstPort(child, options.startTimeout ?? 30_000, () => output);
    return {
      url: `http://127.0.0.1:${port}`,
      output: () => output,
      stop: () => stop(child),
    };
  } catch (error) {
    await stop(child);
    throw error;
  }
}

function firstPort(child: ChildProcess, timeout: number, output: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`the Nest app did not start in ${timeout} ms:\n${output()}`)),
      timeout,
    );
    const onMessage = (message: unknown): void => {
      const report = message as { port?: number; error?: string };
      if (typeof report.port === 'number') done(() => resolve(report.port as number));
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
