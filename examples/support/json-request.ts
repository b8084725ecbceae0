import { request } from 'node:http';
import type { ActivityTracker } from './activity';

/** One JSON request of an example client. */
export interface JsonRequest {
  /** Sent as `x-request-id`, and the id the activity tracker knows the request by. */
  readonly id: string;
  readonly activity: ActivityTracker;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Aborts the request: it then rejects with the signal's reason (a timeout's, a lost hedge's). */
  readonly signal?: AbortSignal | undefined;
  /** The error for an answer with a status >= 400. */
  readonly statusError: (status: number) => Error;
  /** The error for a failed connection or response (default: Node's own). */
  readonly networkError?: (error: Error) => Error;
}

/**
 * One request on a fresh connection (no keep-alive: each attempt is its own), JSON out. What every
 * example client calls, each with its own errors.
 */
export function requestJson<T>(url: string, r: JsonRequest): Promise<T> {
  const { id, activity, signal, statusError } = r;
  const networkError = r.networkError ?? ((error: Error) => error);
  activity.start(id);
  return new Promise<T>((resolve, reject) => {
    const settle = (outcome: () => void) => {
      activity.finish(id);
      outcome();
    };
    const req = request(
      url,
      {
        method: r.method ?? 'GET',
        agent: false,
        headers: { ...r.headers, 'x-request-id': id },
        ...(signal ? { signal } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('error', (error) => {
          settle(() => reject(networkError(error)));
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          settle(() => (status >= 400 ? reject(statusError(status)) : resolve(JSON.parse(body) as T)));
        });
      },
    );
    req.on('error', (error) => {
      // Aborted: reject with the abort reason, which the policy ignores.
      settle(() => reject(signal?.aborted === true ? (signal.reason as Error) : networkError(error)));
    });
    req.end();
  });
}
