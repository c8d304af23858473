import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup/event-loop-turn.ts"],
    // Worker-thread tests spawn real threads on a 2-core machine: keep files
    // from running all at once so bounded waits are not starved.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
