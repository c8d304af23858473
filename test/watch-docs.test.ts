/**
 * The docs of a watched host: the systemd unit is one systemd accepts
 * (`systemd-analyze verify`), runs the exporter on the loopback, and says how
 * it reads other users' QEMUs (a dedicated user with CAP_SYS_PTRACE and no
 * other capability); docs/watch.md's table lists exactly the metrics the
 * exporter serves and names the shipped files.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";
import { installed } from "./helpers/installed.js";
import { servedMetrics } from "./helpers/watched.js";

const UNIT = readFileSync(join(ROOT, "docs", "systemd", "coropool-watch.service"), "utf8");
const WATCH_MD = readFileSync(join(ROOT, "docs", "watch.md"), "utf8");
const tmp = mkdtempSync(join(tmpdir(), "coropool-unit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The unit's `Key=value` settings (comments left out), in order. */
function settings(unit: string): [string, string][] {
  return unit
    .split("\n")
    .filter((l) => /^\w+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]);
}

describe("docs/systemd/coropool-watch.service", () => {
  it("runs the exporter on the loopback, as a dedicated user with CAP_SYS_PTRACE and no other capability", () => {
    const s = new Map(settings(UNIT));
    expect(s.get("ExecStart")).toMatch(/^\/\S+\/coropool watch --prometheus 127\.0\.0\.1:9464$/);
    expect(s.get("DynamicUser")).toBe("yes");
    expect(s.get("AmbientCapabilities")).toBe("CAP_SYS_PTRACE");
    expect(s.get("CapabilityBoundingSet")).toBe("CAP_SYS_PTRACE");
    expect(s.get("NoNewPrivileges")).toBe("yes");
    // It must still see the processes it watches and read vm.max_map_count.
    expect(s.has("ProcSubset")).toBe(false);
    expect(s.has("ProtectProc")).toBe(false);
    expect(UNIT).toMatch(/libvirt-qemu/);
  });

  it.skipIf(!installed("systemd-analyze"))("is a unit systemd accepts (systemd-analyze verify, ExecStart pointed at a program that exists)", () => {
    const copy = join(tmp, "coropool-watch.service");
    writeFileSync(copy, UNIT.replace(/^ExecStart=\S+/m, "ExecStart=/bin/true"));
    const r = spawnSync("systemd-analyze", ["verify", copy], { encoding: "utf8", timeout: 20_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("docs/watch.md", () => {
  it("lists exactly the metrics the exporter serves", async () => {
    const listed = [...WATCH_MD.matchAll(/^\| `(coropool_\w+)` \|/gm)].map((m) => m[1]!);
    expect(listed.sort()).toEqual([...(await servedMetrics())].sort());
  });

  it("names files that exist", () => {
    const named = [...new Set([...WATCH_MD.matchAll(/`((?:docs|test)\/[\w./-]+)`/g)].map((m) => m[1]!))];
    expect(named.length).toBeGreaterThanOrEqual(5);
    expect(named.filter((f) => !existsSync(join(ROOT, f)))).toEqual([]);
  });
});
