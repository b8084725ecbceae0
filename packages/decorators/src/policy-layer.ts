import { registerDecoratedPolicy, type PolicySite } from '@staunch/core';
import type { AnyMethod, Layer } from './interceptor.js';
import type { PolicyDescriptor } from './descriptors.js';

/** The entry point every core policy offers to the interceptor: run `fn` with `self` and `args`, per attempt. */
export interface CallablePolicy {
  call<This, Args extends unknown[]>(fn: (this: This, ...args: Args) => unknown, thisArg: This, args: Args): unknown;
}

/** A layer backed by one policy object shared by every call of the method (retry, poll, asyncBackoff, fallback). */
export class PolicyLayer implements Layer {
  /**
   * `returnsPromise`: the policy always returns a promise and never throws (the
   * attempt policies, the default); false for one that returns what the method
   * returns (a fallback keeps a sync method sync).
   */
  constructor(
    readonly descriptor: PolicyDescriptor,
    readonly policy: CallablePolicy,
    readonly returnsPromise = true,
  ) {}

  register(site: PolicySite): void {
    registerDecoratedPolicy(this.policy, this.descriptor.kind, 'class', site);
  }

  run(next: AnyMethod, self: unknown, args: unknown[]): unknown {
    return this.policy.call(next as (this: unknown, ...args: unknown[]) => unknown, self, args);
  }

  bind(next: AnyMethod): (self: unknown, args: unknown[]) => unknown {
    const policy = this.policy;
    const fn = next as (this: unknown, ...args: unknown[]) => unknown;
    return (self, args) => policy.call(fn, self, args);
  }
}
