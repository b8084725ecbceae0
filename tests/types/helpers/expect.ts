// Compile-time assertions for the type consumers. Nothing here runs.

/** True when `A` and `B` are the same type (not merely assignable to each other). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `T` is `true`: `type _ = Expect<Equal<typeof x, number>>`. */
export type Expect<T extends true> = T;

/** Compiles only when `value` is assignable to `T`. */
export declare function expectAssignable<T>(value: T): void;
