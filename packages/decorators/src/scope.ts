/**
 * Where a stateful policy keeps its state for one decorated method: the one
 * scope mechanism of every stateful decorator (`@CircuitBreaker` today). One
 * object for the method (class scope, or a `breaker` the user shares), one per
 * instance (made on its first call, collected with it), or one per key.
 *
 * Keyed state is bounded: once more than `maxKeys` keys are held, the idle
 * ones (holding nothing worth keeping: for a circuit, closed with no failure
 * on record and no call running) are forgotten, so keys seen once do not
 * accumulate forever. State in use is never forgotten, so the map can hold
 * more than `maxKeys` while that many are busy.
 */
export class Scope<State extends object> {
  /** The one object of a class or shared scope; undefined for the other scopes. */
  readonly single: State | undefined;
  readonly #make: ((key?: string) => State) | undefined;
  readonly #perInstance: WeakMap<object, State> | undefined;
  readonly #perKey: Map<string, State> | undefined;
  readonly #isIdle: ((state: State) => boolean) | undefined;
  readonly #maxKeys: number;
  // The next sweep runs at this size: `maxKeys`, or twice what the last sweep kept when more was busy,
  // so a map full of busy state is not swept again for every new key (amortised O(1) per new key).
  #sweepAt: number;
  #noun = 'the state';

  private constructor(
    single: State | undefined,
    make: ((key?: string) => State) | undefined,
    kind: 'instance' | 'key' | undefined,
    isIdle: ((state: State) => boolean) | undefined,
    maxKeys: number,
  ) {
    this.single = single;
    this.#make = make;
    this.#perInstance = kind === 'instance' ? new WeakMap() : undefined;
    this.#perKey = kind === 'key' ? new Map() : undefined;
    this.#isIdle = isIdle;
    this.#maxKeys = maxKeys;
    this.#sweepAt = maxKeys;
  }

  /** One object for every call of the method (class scope, or a shared object). */
  static single<State extends object>(state: State): Scope<State> {
    return new Scope(state, undefined, undefined, undefined, Infinity);
  }

  /** One object per instance, made by `make()` on the instance's first call; `noun` names it in errors. */
  static perInstance<State extends object>(make: () => State, noun: string): Scope<State> {
    const scope = new Scope<State>(undefined, make, 'instance', undefined, Infinity);
    scope.#noun = noun;
    return scope;
  }

  /** One object per key, made by `make(key)`; past `maxKeys` keys, the idle ones are forgotten. */
  static perKey<State extends object>(
    make: (key?: string) => State,
    maxKeys: number,
    isIdle: (state: State) => boolean,
  ): Scope<State> {
    return new Scope<State>(undefined, make, 'key', isIdle, maxKeys);
  }

  /** How many keys are held now (keyed scope; 0 otherwise). */
  get keys(): number {
    return this.#perKey?.size ?? 0;
  }

  /**
   * The state of a call on `self` (and with `key`, for a keyed scope), made on
   * first use. Throws a TypeError naming `label` for a `this` that is no object
   * (instance scope) or a key that is no string (keyed scope).
   */
  of(self: unknown, key: unknown, label: string): State {
    if (this.single !== undefined) return this.single;
    const make = this.#make as (key?: string) => State;
    const perInstance = this.#perInstance;
    if (perInstance !== undefined) {
      if (self === null || (typeof self !== 'object' && typeof self !== 'function')) {
        const got = self === null ? 'null' : typeof self;
        throw new TypeError(`${label}: ${this.#noun} with scope 'instance' needs an object as \`this\`, got ${got}.`);
      }
      let state = perInstance.get(self);
      if (state === undefined) perInstance.set(self, (state = make()));
      return state;
    }
    if (typeof key !== 'string') throw new TypeError(`${label}: \`key\` must return a string, got ${typeof key}.`);
    const perKey = this.#perKey as Map<string, State>;
    let state = perKey.get(key);
    if (state === undefined) {
      if (perKey.size >= this.#sweepAt) this.#sweep(perKey);
      perKey.set(key, (state = make(key)));
    }
    return state;
  }

  #sweep(perKey: Map<string, State>): void {
    const isIdle = this.#isIdle as (state: State) => boolean;
    for (const [key, state] of perKey) if (isIdle(state)) perKey.delete(key);
    this.#sweepAt = Math.max(this.#maxKeys, 2 * perKey.size);
  }
}
