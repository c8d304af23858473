/**
 * docs/prometheus/alerts.yml under Debian's promtool: the rules are valid
 * (`promtool check rules`) and do what alerts.test.yml says on promtool's
 * simulated clock (`promtool test rules`: the headroom alert after 5 minutes
 * under 20%, the growth alert for a leak but not for a burst that levels
 * off). The same unit tests fail for rules whose thresholds were changed, so
 * they hold the shipped numbers.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";
import { skipReason } from "./helpers/installed.js";

const RULES_DIR = join(ROOT, "docs", "prometheus");
const SKIP = skipReason("alert rules under promtool", ["promtool"], "Debian's prometheus package: apt-get install -y prometheus");
const tmp = mkdtempSync(join(tmpdir(), "coropool-rules-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function promtool(args: string[], cwd: string) {
  const r = spawnSync("promtool", args, { cwd, encoding: "utf8", timeout: 20_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(SKIP !== null)(SKIP ?? "alert rules under promtool", () => {
  it("promtool check rules: both rules are valid", () => {
    const r = promtool(["check", "rules", "alerts.yml"], RULES_DIR);
    expect(r.out).toContain("SUCCESS: 2 rules found");
    expect(r.code).toBe(0);
  });

  it("promtool test rules: alerts.test.yml passes", () => {
    const r = promtool(["test", "rules", "alerts.test.yml"], RULES_DIR);
    expect(r.out).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  it("the unit tests fail for rules with other thresholds or another hold", () => {
    const rules = readFileSync(join(RULES_DIR, "alerts.yml"), "utf8");
    const variants: [string, string, string][] = [
      ["coropool_qemu_headroom_ratio < 0.2", "coropool_qemu_headroom_ratio < 0.1", "CoropoolQemuVmaHeadroomLow"],
      ["* 60 > 500", "* 60 > 1500", "CoropoolQemuStacksGrowingFast"],
      ["* 60 > 500", "* 60 > 150", "CoropoolQemuStacksGrowingFast"],
      ["for: 5m", "for: 3m", "CoropoolQemuVmaHeadroomLow"],
    ];
    copyFileSync(join(RULES_DIR, "alerts.test.yml"), join(tmp, "alerts.test.yml"));
    for (const [from, to, alert] of variants) {
      expect(rules, from).toContain(from);
      writeFileSync(join(tmp, "alerts.yml"), rules.replace(from, to));
      const r = promtool(["test", "rules", "alerts.test.yml"], tmp);
      expect(r.code, `${from} → ${to}`).toBe(1);
      expect(r.out, `${from} → ${to}`).toContain(`alertname: ${alert}`);
    }
  });
});
