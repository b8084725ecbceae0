// The child process behind `startNestApp` (nest-process.ts): loads a module that exports
// `createApp()`, listens on 127.0.0.1 (a free port), reports the port over IPC, and closes the
// app when told to (or when its parent goes away).
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';

interface AppModuleFile {
  readonly createApp: () => Promise<INestApplication>;
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error('serve.ts: the app module file is missing');
  const { createApp } = (await import(file)) as AppModuleFile;
  const app = await createApp();
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const address = (app.getHttpServer() as Server).address() as AddressInfo;
  const close = (): void => {
    void app.close().then(() => process.exit(0));
  };
  process.on('message', (message) => {
    if (message === 'close') close();
  });
  process.on('disconnect', close);
  // Which Nest really answered: the test checks it is the major it asked for.
  const manifest = readFileSync(require.resolve('@nestjs/core/package.json'), 'utf8');
  const { version } = JSON.parse(manifest) as { version: string };
  process.send?.({ port: address.port, nest: version });
}

main().catch((error: unknown) => {
  const report = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  // Exit once the report is sent: exiting at once can drop it.
  if (process.send === undefined) process.exit(1);
  else process.send(report, () => process.exit(1));
});
