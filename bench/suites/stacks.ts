import { initialPoolMaxSize, policyId } from "../../src/pools/index.js";
import { SharedRegion } from "../../src/shared/region.js";
import { KernelStackBackend, kernelBackendUnavailableReason } from "../../src/stacks/kernel-backend.js";
import { StackAllocator } from "../../src/stacks/stack-allocator.js";
import { poolFixture } from "../fixture.js";
import { markdownTable, measure, ns, OPS_PER_CALL, ratio, type BenchSettings } from "../measure.js";

/** A one-slot-at-a-time allocator over real mappings of QEMU's default 1 MiB stacks. */
function kernelAllocator(): StackAllocator {
  const region = SharedRegion.create({
    policyId: policyId("none"),
    threads: 1,
    stackCapacity: 16,
    vmaLimit: 1_000_000,
    baselineVmas: 0,
    initialPoolMaxSize: initialPoolMaxSize("none"),
    hardMaxSize: 0,
  });
  return new StackAllocator(region, KernelStackBackend.create(16));
}

/** Mapping and unmapping one stack, per backend. */
export async function runStacks(settings: BenchSettings): Promise<{ markdown: string; simulatedNs: number }> {
  const { allocator } = poolFixture("none");
  const unavailable = kernelBackendUnavailableReason();
  const tasks = [
    {
      name: "map+unmap simulated",
      fn: () => {
        for (let i = 0; i < OPS_PER_CALL; i++) allocator.free(allocator.mapNew(0), 0);
      },
    },
  ];
  if (unavailable === null) {
    const kernel = kernelAllocator();
    tasks.push({
      name: "map+unmap kernel",
      fn: () => {
        for (let i = 0; i < OPS_PER_CALL; i++) kernel.free(kernel.mapNew(0), 0);
      },
    });
  }
  const [simulated, kernel] = await measure(settings, tasks);
  const markdown = [
    "Mapping a stack (VMA accounting in two steps, a free slot from the tagged lock-free list; kernel: mmap of 1 MiB + a guard page, mprotect of the guard, munmap) and unmapping it.",
    "",
    markdownTable(
      ["backend", "map+unmap", "vs simulated"],
      [
        ["simulated", ns(simulated!.nsPerOp), "1.00x"],
        kernel
          ? ["kernel (mmap + mprotect + munmap through koffi)", ns(kernel.nsPerOp), ratio(kernel.nsPerOp, simulated!.nsPerOp)]
          : ["kernel", `unavailable: ${unavailable}`, "-"],
      ],
    ),
  ].join("\n");
  return { markdown, simulatedNs: simulated!.nsPerOp };
}
