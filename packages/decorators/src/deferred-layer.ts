import { withValidationLabel, type PolicySite } from '@staunch/core';
import type { DecoratedMethod } from './define-decorator.js';
import type { PolicyDescriptor } from './descriptors.js';
import { planOf, recompile, type AnyMethod, type Layer, type Plan } from './interceptor.js';
import {
  addPendingPlan,
  currentDefaults,
  labelOf,
  noteBuiltWithoutDefaults,
  type DefaultsKind,
  type PolicyDefaults,
} from './policy-defaults.js';

/** How a decorator makes its layer: its own options over `defaults` (the defaults set for its kind, if any). */
export type BuildLayer<K extends DefaultsKind> = (
  method: DecoratedMethod,
  defaults: PolicyDefaults[K] | undefined,
) => Layer;

/**
 * Builds a decorator's layer over the defaults set for its kind. Option errors name the method,
 * and the class and who set the defaults when some apply. Built with no defaults set, the method
 * is noted: defaults for its kind set later could not reach it.
 */
export function buildLayer<K extends DefaultsKind>(
  kind: K,
  method: DecoratedMethod,
  build: BuildLayer<K>,
  defaults: PolicyDefaults | undefined,
  by: string | undefined,
): Layer {
  const own = defaults?.[kind];
  const label =
    own === undefined ? method.label : `${labelOf(method.label, method.site)} with the policy defaults of ${by}`;
  const layer = withValidationLabel(label, () => build(method, own));
  if (defaults === undefined) noteBuiltWithoutDefaults(kind, method.label, method.site);
  return layer;
}

/**
 * A decorator's layer while policy defaults are awaited (`expectPolicyDefaults()`). Made at
 * class definition from a probe (the decorator's options validated alone, no store touched,
 * nothing listed), it builds the real layer when the defaults are set, or on the method's first
 * call or lookup, and swaps it into the method's plan: from then on the plan runs the real
 * layer directly, with nothing left of this one on the call path.
 */
export class DeferredLayer<K extends DefaultsKind = DefaultsKind> implements Layer {
  /** Marks a deferred layer, whichever build (ESM or CJS) of this package made it. */
  readonly deferred = true;
  readonly descriptor: PolicyDescriptor;
  readonly returnsPromise: boolean;
  readonly bindRejectsForAsync: boolean;
  readonly #kind: K;
  readonly #method: DecoratedMethod;
  readonly #build: BuildLayer<K>;
  #real: Layer | undefined;
  #plan: Plan | undefined;
  #site: PolicySite | undefined;

  constructor(kind: K, method: DecoratedMethod, build: BuildLayer<K>) {
    this.#kind = kind;
    this.#method = method;
    this.#build = build;
    const probe = withValidationLabel(method.label, () => build({ ...method, probe: true }, undefined));
    this.returnsPromise = probe.returnsPromise === true;
    this.bindRejectsForAsync = probe.bindRejectsForAsync === true;
    this.descriptor = liveDescriptor(probe.descriptor, () => this.settle().descriptor);
  }

  /** Remembers where to list the real policies: they are listed once built. */
  register(site: PolicySite): void {
    this.#site = site;
  }

  /** The plan this layer is part of, once added to it; waits in the defaults slot until settled. */
  attach(plan: Plan): void {
    if (this.#plan !== undefined) return;
    this.#plan = plan;
    // One entry per plan: its deferred layers are built together.
    if (pendingPlans.has(plan)) return;
    pendingPlans.add(plan);
    addPendingPlan(plan, preparePlan);
  }

  // Only the first call gets here: settling recompiles the plan without this layer.
  run(next: AnyMethod, self: unknown, args: unknown[], inner?: boolean): unknown {
    return this.settle().run(next, self, args, inner);
  }

  /** The real layer, built now (with the defaults set so far, if any) if it was not yet. */
  settle(): Layer {
    if (this.#real === undefined) {
      const { defaults, by } = currentDefaults();
      if (this.#plan === undefined) this.adopt(this.build(defaults, by));
      else preparePlan(this.#plan, defaults, by)?.();
    }
    return this.#real as Layer;
  }

  get settled(): boolean {
    return this.#real !== undefined;
  }

  /** Builds the real layer over `defaults` (not yet in the plan). */
  build(defaults: PolicyDefaults | undefined, by: string | undefined): Layer {
    return buildLayer(this.#kind, this.#method, this.#build, defaults, by);
  }

  /** Takes `real` as this layer's policy from now on, and lists it. */
  adopt(real: Layer): void {
    this.#real = real;
    if (this.#site !== undefined) real.register?.(this.#site);
  }
}

const pendingPlans = new WeakSet<Plan>();

/** `wrapper`'s plan with its deferred layers settled: what `policyOf` and `circuitOf` search. */
export function settledPlanOf(wrapper: unknown): Plan | undefined {
  const plan = planOf(wrapper);
  if (plan !== undefined) for (const layer of plan.layers) if (isDeferred(layer)) layer.settle();
  return plan;
}

// Builds every deferred layer of `plan` (any error throws before anything changed) and returns the
// swap: the built layers into the plan, and the plan's head recompiled once for all of them.
function preparePlan(
  planObject: object,
  defaults: PolicyDefaults | undefined,
  by: string | undefined,
): (() => void) | undefined {
  const plan = planObject as Plan;
  const built: [DeferredLayer, Layer][] = [];
  for (const layer of plan.layers) {
    if (isDeferred(layer) && !layer.settled) built.push([layer, layer.build(defaults, by)]);
  }
  if (built.length === 0) return undefined;
  return () => {
    for (const [deferred, real] of built) {
      plan.layers[plan.layers.indexOf(deferred)] = real;
      deferred.adopt(real);
    }
    recompile(plan);
  };
}

// By shape: a deferred layer made by the other build (ESM or CJS) of this package.
function isDeferred(layer: Layer): layer is DeferredLayer {
  return (layer as Partial<DeferredLayer>).deferred === true;
}

// The descriptor `policiesOf` lists at class definition: its kind at once, the rest (options, scope)
// read from the real layer, which reading builds.
function liveDescriptor(probe: PolicyDescriptor, real: () => PolicyDescriptor): PolicyDescriptor {
  const view: Record<string, unknown> = { kind: probe.kind };
  for (const key of Object.keys(probe)) {
    if (key === 'kind') continue;
    Object.defineProperty(view, key, { enumerable: true, get: () => (real() as Record<string, unknown>)[key] });
  }
  return view as PolicyDescriptor;
}
