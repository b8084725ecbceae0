import type { LuaScript } from './scripts.js';
import type { SharedCircuit } from './shared-circuit.js';

/** A shared circuit's state as Redis holds it: what every script replies and every transition publishes. */
export interface SharedState {
  /** The shared state. */
  readonly state: 'closed' | 'open' | 'half-open';
  /** Counts shared transitions; a replica ignores anything older than what it has applied. */
  readonly epoch: number;
  /** Open: ms until trials may start. Half-open: ms left on the trial lease (0 when nobody holds it). */
  readonly remaining: number;
  /** Half-open: the lease holder's token ('' when none). */
  readonly holder: string;
  /** The state hash's generation: a new one means the state was lost and epochs start over. */
  readonly generation: string;
}

/** What a shared circuit needs from its store: the connection, the fleet settings and the event outlet. */
export interface CircuitLink {
  /**
   * False during an incident that covers `slot` (a Cluster hash slot; 0 on a single server): the store's
   * (Redis unreachable or slow), or its node's on a Cluster. Circuits then run on local state alone.
   */
  online(slot: number): boolean;
  /**
   * The client has been ready at least once. Failures noted before are kept
   * (a count per circuit), even through an incident, and reported once it is.
   */
  readonly connected: boolean;
  /** This process's identity in failure records and lease tokens. */
  readonly processId: string;
  /** Distinct processes whose failures a shared circuit needs before it opens. */
  readonly quorum: number;
  /** The failure window (ms) of the shared rule; `undefined`: the circuit's `resetTimeout`. */
  readonly window: number | undefined;
  /** The shortest trial lease (ms); a lease lasts the longer of this and the circuit's `resetTimeout`. */
  readonly leaseTimeout: number;
  /**
   * Runs `script` for the circuit `name` with its own arguments after the
   * common ones; settles when Redis answers, with `undefined` when it failed
   * (the store then handles the incident of the circuit's node). Never rejects.
   */
  run(
    script: LuaScript,
    circuit: SharedCircuit,
    resetTimeout: number,
    args: readonly (string | number)[],
  ): Promise<SharedState | undefined>;
  /**
   * Queues `circuit`'s failure report: the store takes it ({@link SharedCircuit.takeReport}) in its next
   * batch of background commands and hands the reply back ({@link SharedCircuit.reported}). A circuit
   * queued already is queued once: its report carries every failure noted until it goes out.
   */
  report(circuit: SharedCircuit): void;
  /**
   * Reads `circuit`'s shared state and applies it, paced with every other
   * re-read of the store (batched round trips). Settles once applied, or once
   * it failed (the store then handles the incident). Never rejects.
   */
  reread(circuit: SharedCircuit): Promise<void>;
  /** `circuit` is called (the first time since its last {@link SharedCircuit.unuse}). */
  used(circuit: SharedCircuit): void;
  /** Reports a shared transition this process has learned of. */
  changed(name: string, state: SharedState): void;
}

const states: readonly unknown[] = ['closed', 'open', 'half-open'];

/** Reads a script's reply (`[state, epoch, remaining, holder, generation]`); throws on anything else, a bug. */
export function parseReply(reply: unknown): SharedState {
  if (Array.isArray(reply) && reply.length === 5) {
    const [state, epoch, remaining, holder, generation] = reply as unknown[];
    const parsed = toSharedState(state, epoch, remaining, holder, generation);
    if (parsed !== undefined) return parsed;
  }
  throw new TypeError(`@staunch/redis: unexpected script reply ${JSON.stringify(reply)}`);
}

/** Reads a published transition (`{ n, s, e, r, h, g }` as JSON); `undefined` for a message that is not one. */
export function parseMessage(message: string): { readonly name: string; readonly state: SharedState } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { n, s, e, r, h, g } = parsed as Record<string, unknown>;
  const state = toSharedState(s, e, r, h, g);
  return typeof n === 'string' && state !== undefined ? { name: n, state } : undefined;
}

function toSharedState(
  state: unknown,
  epoch: unknown,
  remaining: unknown,
  holder: unknown,
  generation: unknown,
): SharedState | undefined {
  if (!states.includes(state) || typeof holder !== 'string' || typeof generation !== 'string') return undefined;
  const e = Number(epoch);
  const r = Number(remaining);
  if (!Number.isInteger(e) || e < 0 || !Number.isFinite(r)) return undefined;
  return { state: state as SharedState['state'], epoch: e, remaining: Math.max(0, r), holder, generation };
}
