/**
 * How much of a user's value an error message quotes: one limit
 * (MAX_SHOWN_CHARS in src/message-text.ts) at every door, so the same long
 * value is cut at the same place whether it came as a flag, a bundled name, a
 * scenario field, a trace word or a QEMU log line.
 */
import { describe, expect, it } from "vitest";
import { shownArg } from "../src/cli/args.js";
import { BUNDLED_SCENARIOS, bundledOrPath } from "../src/experiments/bundled.js";
import { MAX_SHOWN_CHARS } from "../src/message-text.js";
import { replayLog } from "../src/replay/replay-log.js";
import { parseTrace } from "../src/replay/trace.js";
import { show } from "../src/scenarios/refusal.js";

const LONG = "x".repeat(500);
/** LONG as a message shows it: cut to MAX_SHOWN_CHARS, the cut marked. */
const CUT = `${"x".repeat(MAX_SHOWN_CHARS - 1)}…`;

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected an error");
}

describe("a long value is cut at MAX_SHOWN_CHARS in every message", () => {
  it("a flag's argument", () => {
    expect(shownArg(LONG)).toBe(CUT);
  });

  it("a name that is no bundled scenario", () => {
    expect(messageOf(() => bundledOrPath(BUNDLED_SCENARIOS, LONG, "bad value for --scenario"))).toContain(`'${CUT}' is no bundled scenario`);
  });

  it("a scenario field's value (quoted as JSON, the quotes counted)", () => {
    expect(show(LONG)).toBe(`"${"x".repeat(MAX_SHOWN_CHARS - 2)}…`);
  });

  it("a trace's word", () => {
    expect(messageOf(() => parseTrace(`threads 1\n${LONG} T0 a\n`))).toContain(`unknown event '${CUT}'`);
  });

  it("a QEMU log's line", async () => {
    const line = `11@5.000001:qemu_aio_coroutine_enter ctx 0xa0 from 0x1 to 0xZZ ${LONG}`;
    await expect(replayLog({ text: `${line}\n` }, { maxMapCount: 65530, baselineVmas: 0, policies: [{ policy: "none" }] } as never)).rejects.toThrow(
      `in '${line.slice(0, MAX_SHOWN_CHARS - 1)}…'`,
    );
  });
});
