// Placeholder names the README snippets use without declaring them: the reader's own types and
// functions (an HTTP error class, a receipt, a database handle…). Global declarations only, so a
// snippet that declares one of these names itself simply shadows it. Checked by
// scripts/check-readme-snippets.mjs.

/** An HTTP client's error. */
declare class HttpError extends Error {
  readonly status: number;
}
/** A connection-level error (a database driver's, a socket's). */
declare class ConnectionError extends Error {
  readonly fatal: boolean;
}
declare class TransientError extends Error {}
declare class ECONNRESET extends Error {}

interface Receipt {
  readonly id: string;
}
interface Job {
  readonly id: string;
  readonly state: 'running' | 'done' | 'failed';
}
interface ExportJob extends Job {
  readonly url?: string;
}
interface Row {
  readonly [column: string]: unknown;
}

declare const id: string;
declare const otherId: string;
declare const client: { get(path: string): Promise<unknown> };
declare const url: string;
declare const sql: string;
declare function charge(id: string): Promise<Receipt>;
declare function getJob(id: string): Promise<Job>;
declare function download(url: string): Promise<Uint8Array>;
declare function fetchJson(url: string, init?: { signal?: AbortSignal }): Promise<unknown>;
declare function flaky(): Promise<string>;
declare function isTransient(error: unknown): boolean;
declare const db: { query(sql: string, options?: { signal?: AbortSignal }): Promise<Row[]> };
declare const log: { info(message: string): void; warn(details: unknown): void };
declare const metrics: { increment(name: string): void; gauge(name: string, value: number): void };
declare const api: { get<T>(path: string): Promise<T>; post<T>(path: string, body?: unknown): Promise<T> };

// Classes the fragments of the decorators README refer to (their full form is in another block).
declare class Billing {
  charge(id: string): Promise<Receipt>;
}
declare class Config {
  static load(): Promise<void>;
}
declare const payments: import('@staunch/core').CircuitBreakerPolicy;
declare const paymentsCircuit: import('@staunch/core').CircuitBreakerPolicy;
/** NestJS's class decorator, for the legacy-mode snippet. */
declare function Injectable(): ClassDecorator;
