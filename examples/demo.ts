/**
 * `npm start`: builds the packages, then runs each example against them (the examples
 * import `@staunch/core` / `@staunch/decorators` like any user; ts-node compiles them).
 */
import { quickStart } from './quick-start';

const examples: readonly { readonly title: string; readonly run: () => Promise<void> }[] = [
  { title: 'Quick start: retry a flaky call', run: () => quickStart() },
];

async function main(): Promise<void> {
  for (const { title, run } of examples) {
    console.log(`\n== ${title}\n`);
    await run();
  }
  console.log('\nDone.');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
