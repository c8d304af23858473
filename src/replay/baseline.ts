/**
 * The VMAs a replay assumes the process maps besides its coroutine stacks,
 * when the caller gives no baseline: a documented constant, so a replay
 * depends only on its input and options (never on coropool's own process).
 * PROVISIONAL until validate:qemu's idle measurement lands (issue 17 item 10).
 */
export const REPLAY_BASELINE_VMAS = 64;
