// Cleanup for integration tests. Node's test runner runs a test's `after` hooks in the order
// they were added and stops at the first one that throws, so one failing cleanup (a namespace
// that would not go) used to leave every later one undone: processes kept running and the test
// file never exited. `cleanup` runs all of them, the last added first (like `defer`: what was
// started last stops first, the test host it ran in goes after it), each bounded in time, and
// reports every failure at the end.
import type { TestContext } from 'node:test';

const CLEANUP_LIMIT_MS = 30_000;
const stacks = new WeakMap<TestContext, Array<() => unknown>>();

async function bounded(fn: () => unknown): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(fn),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`a cleanup did not finish within ${CLEANUP_LIMIT_MS} ms: ${fn.toString().slice(0, 120)}`)), CLEANUP_LIMIT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` when the test `t` ends, pass or fail. */
export function cleanup(t: TestContext, fn: () => unknown): void {
  let stack = stacks.get(t);
  if (!stack) {
    const mine: Array<() => unknown> = [];
    stacks.set(t, mine);
    stack = mine;
    t.after(async () => {
      const errors: unknown[] = [];
      while (mine.length > 0) {
        try {
          await bounded(mine.pop()!);
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanups failed: ${errors.map((e) => (e as Error).message).join('; ')}`);
    });
  }
  stack.push(fn);
}
