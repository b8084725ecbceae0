// Node 20-24 have no Symbol.metadata; TypeScript's decorator emit reads it when a class is defined.
// Symbol.for keeps the key identical across the ESM and CJS copies of this package.
(Symbol as { metadata?: symbol }).metadata ??= Symbol.for('Symbol.metadata');

export {};
