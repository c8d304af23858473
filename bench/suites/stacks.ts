import { poolFixture } from "../fixture.js";
import { markdownTable, measure, ns, OPS_PER_CALL, type BenchSettings } from "../measure.js";

/** Mapping and unmapping one stack, per backend. */
export async function runStacks(settings: BenchSettings): Promise<{ markdown: string; simulatedNs: number }> {
  const { allocator } = poolFixture("none");
  const [simulated] = await measure(settings, [
    {
      name: "map+unmap simulated",
      fn: () => {
        for (let i = 0; i < OPS_PER_CALL; i++) allocator.free(allocator.mapNew(0), 0);
      },
    },
  ]);
  const markdown = [
    "Mapping a stack (VMA accounting in two steps, a free slot from the tagged lock-free list) and unmapping it.",
    "",
    markdownTable(
      ["backend", "map+unmap"],
      [
        ["simulated", ns(simulated!.nsPerOp)],
        ["kernel (mmap + mprotect + munmap)", "not built yet: the kernel backend is a later issue"],
      ],
    ),
  ].join("\n");
  return { markdown, simulatedNs: simulated!.nsPerOp };
}
