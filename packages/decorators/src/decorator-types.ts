import type { FallbackCheck } from '@staunch/core';

/** A method that returns a promise: the only kind a policy that sleeps can wrap. */
export type AsyncMethod<This, Args extends unknown[], R> = (this: This, ...args: Args) => Promise<R>;

/** A method of any kind. */
export type Method<This, Args extends unknown[], R> = (this: This, ...args: Args) => R;

/**
 * A decorator for promise-returning methods, usable both as a TC39 (Stage 3)
 * decorator and under `experimentalDecorators`. Declared to return `void` so a
 * misuse reports one readable error at the decorated method. `KeyThis`/`KeyArgs`
 * come from a typed `key` function (`@Bulkhead`), if one was given.
 */
export interface AsyncMethodDecorator<KeyThis = unknown, KeyArgs extends unknown[] = unknown[]> {
  <This extends KeyThis, Args extends KeyArgs, R>(
    value: AsyncMethod<This, Args, R>,
    context: ClassMethodDecoratorContext<This, AsyncMethod<This, Args, R>>,
  ): void;
  <F extends (...args: LegacyArgs<KeyArgs>) => Promise<unknown>>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<F>,
  ): void;
}

/** `@Poll`'s decorator: the method must resolve to a value its predicate accepts. */
export interface PollDecorator<Value> {
  <This, Args extends unknown[], R extends Value>(
    value: AsyncMethod<This, Args, R>,
    context: ClassMethodDecoratorContext<This, AsyncMethod<This, Args, R>>,
  ): void;
  <F extends (...args: never[]) => Promise<Value>>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<F>,
  ): void;
}

/**
 * `@CircuitBreaker`'s decorator: any method, sync or async (a sync method stays
 * sync). `KeyThis`/`KeyArgs` come from a typed `key` function, if one was given.
 */
export interface MethodDecorator<KeyThis = unknown, KeyArgs extends unknown[] = unknown[]> {
  <This extends KeyThis, Args extends KeyArgs, R>(
    value: Method<This, Args, R>,
    context: ClassMethodDecoratorContext<This, Method<This, Args, R>>,
  ): void;
  <F extends (...args: LegacyArgs<KeyArgs>) => unknown>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<F>,
  ): void;
}

/**
 * `@Fallback`'s decorator: any method, sync or async, whose return type the
 * fallback `F` fits (see `FallbackFits`): a mismatch is reported at the method.
 */
export interface FallbackDecorator<F> {
  <This, Args extends unknown[], R>(
    value: Method<This, Args, R>,
    context: ClassMethodDecoratorContext<This, Method<This, Args, R>> & FallbackCheck<F, This, Args, R>,
  ): void;
  <M extends (...args: never[]) => unknown>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<M> & FallbackCheck<F, never, Parameters<M>, ReturnType<M>>,
  ): void;
}

/** Without a typed `key`, any parameter list; with one, the parameters it reads. */
type LegacyArgs<KeyArgs extends unknown[]> = unknown[] extends KeyArgs ? never[] : KeyArgs;
