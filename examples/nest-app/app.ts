/**
 * Makes the Nest application (not yet listening). `reflect-metadata` first, as in every Nest app.
 * Run it alone against the api-client example's server:
 *
 *   UPSTREAM_URL=http://127.0.0.1:<port> TS_NODE_PROJECT=tsconfig.legacy.json \
 *     node -r ts-node/register -e "require('./examples/nest-app/app').createApp().then((a) => a.listen(3000, '127.0.0.1'))"
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

export async function createApp(upstream = process.env.UPSTREAM_URL): Promise<INestApplication> {
  if (upstream === undefined) throw new Error('createApp: give the upstream URL (or set UPSTREAM_URL)');
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- Nest's documented options literal
  return NestFactory.create(AppModule.forUpstream(upstream), { logger: false });
}
