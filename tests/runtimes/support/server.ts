/**
 * The scenario's loopback server (127.0.0.1, a free port): `/slow` never answers; `/aborted`
 * answers how many `/slow` requests their client closed (the aborted fetch); any other path is a
 * file under `dir` (the browser pages, their scripts and the app's node_modules).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

export interface LoopbackServer {
  readonly url: string;
  close(): Promise<void>;
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

export async function startServer(dir?: string): Promise<LoopbackServer> {
  let aborted = 0;
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/slow') {
      request.socket.once('close', () => {
        if (!response.writableEnded) aborted++;
      });
      return;
    }
    if (path === '/aborted') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end(String(aborted));
      return;
    }
    void serveFile(dir, path, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function serveFile(dir: string | undefined, path: string, response: ServerResponse): Promise<void> {
  const file = dir === undefined ? undefined : join(dir, normalize(decodeURIComponent(path)));
  if (file === undefined || dir === undefined || !file.startsWith(dir + sep)) {
    response.writeHead(404).end();
    return;
  }
  try {
    const body = await readFile(file);
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
  } catch {
    response.writeHead(404).end();
  }
}
