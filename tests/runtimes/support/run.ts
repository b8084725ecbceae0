import { execFile } from 'node:child_process';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  timeout?: number;
}

/** Runs a program to its end (killed after `timeout`, 120 s by default); never rejects. */
export function attempt(file: string, args: readonly string[], options: RunOptions): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: { ...process.env, ...quiet, ...options.env },
        timeout: options.timeout ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr: error !== null && stderr === '' ? error.message : stderr });
      },
    );
  });
}

/** Runs a program to its end; rejects with its output when it fails. */
export async function run(file: string, args: readonly string[], options: RunOptions): Promise<string> {
  const ran = await attempt(file, args, options);
  if (ran.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited with ${ran.code}:\n${ran.stdout}\n${ran.stderr}`);
  }
  return ran.stdout;
}

// No tool may reach the network on its own: no update checks, no telemetry.
const quiet = {
  DENO_NO_UPDATE_CHECK: '1',
  DENO_NO_PROMPT: '1',
  DO_NOT_TRACK: '1',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
  npm_config_update_notifier: 'false',
};
