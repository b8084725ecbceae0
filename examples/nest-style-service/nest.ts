/**
 * Stand-ins for the three pieces of NestJS this example needs, so that it runs without NestJS:
 * `@Injectable()`, a container that builds a class from its constructor's `design:paramtypes`
 * (what Nest's injector reads), and `Reflector.get` (what a Nest interceptor or guard uses to
 * read metadata). With NestJS installed, delete this file and import them from @nestjs/core.
 */
import 'reflect-metadata';

type Constructor<T = object> = new (...args: never[]) => T;

const INJECTABLE = 'example:injectable';

/** Marks a class as a provider (as @nestjs/common's `Injectable`). */
export function Injectable(): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(INJECTABLE, true, target);
  };
}

/** A one-scope container: every provider is a singleton, built from its constructor's parameter types. */
export class Container {
  readonly #instances = new Map<Constructor, object>();

  /** The instance of `type`, building it (and what it needs) on first use. */
  get<T extends object>(type: Constructor<T>): T {
    const existing = this.#instances.get(type);
    if (existing !== undefined) return existing as T;
    if (Reflect.getMetadata(INJECTABLE, type) !== true) {
      throw new TypeError(`${type.name} is not @Injectable()`);
    }
    // Written by the compiler under emitDecoratorMetadata, for any class with a decorator.
    const needs = (Reflect.getMetadata('design:paramtypes', type) ?? []) as Constructor[];
    const instance = new type(...(needs.map((need) => this.get(need)) as never[]));
    this.#instances.set(type, instance);
    return instance;
  }

  /** The parameter types `type`'s constructor declares. */
  static dependenciesOf(type: Constructor): string[] {
    return ((Reflect.getMetadata('design:paramtypes', type) ?? []) as Constructor[]).map((t) => t.name);
  }
}

/** Reads metadata as Nest's `Reflector.get(key, handler)` does, from a class and method name. */
export const Reflector = {
  get(key: string, type: Constructor, method: string): unknown {
    return Reflect.getMetadata(key, type.prototype as object, method);
  },
};
