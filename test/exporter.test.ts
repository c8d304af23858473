/**
 * The Prometheus exporter of `coropool watch --prometheus`: the address it
 * takes, the series it serves for a snapshot set (exact values, a process
 * that went away dropped), the refusals of an address it cannot listen on,
 * and a clean close (a process that only starts, scrapes and closes it exits
 * by itself).
 */
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { startExporter, type Exporter } from "../src/host/exporter.js";
import { parseListenAddress } from "../src/host/listen-address.js";
import { ROOT } from "./helpers/cli.js";
import { samples, watched } from "./helpers/watched.js";

let open: Exporter[] = [];
async function start(port = 0): Promise<Exporter> {
  const e = await startExporter({ host: "127.0.0.1", port });
  open.push(e);
  return e;
}
afterEach(async () => {
  await Promise.all(open.map((e) => e.close()));
  open = [];
});

describe("parseListenAddress", () => {
  it("reads [HOST:]PORT, the loopback unless a host is given", () => {
    expect(parseListenAddress("9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseListenAddress("0.0.0.0:9464")).toEqual({ host: "0.0.0.0", port: 9464 });
    expect(parseListenAddress("[::1]:9464")).toEqual({ host: "::1", port: 9464 });
    expect(parseListenAddress("localhost:0")).toEqual({ host: "localhost", port: 0 });
    expect(parseListenAddress("65535")).toEqual({ host: "127.0.0.1", port: 65535 });
  });

  it("refuses a port out of range or not digits, a bad host, and a bare IPv6 address", () => {
    for (const bad of ["", "65536", "-1", "94a", "1e3", " 9464", "127.0.0.1:", ":9464", "300.1.1.1:9464", "::1:9464", "[127.0.0.1]:9464", "host_name:9464", "a b:1", "x\n:1"]) {
      expect(parseListenAddress(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});

describe("the exporter's /metrics", () => {
  it("serves each gauge with the snapshot's values, labelled by pid, vm, qemu_version and policy", async () => {
    const e = await start();
    e.updateMetrics([watched(101, { vmas: 6553, stacks: 2000, peakStacks: 2100 }), watched(102, { vm: null, qemuVersion: "10.0.2", policy: "batched" })], { scrapeSeconds: 0.004 });
    const res = await fetch(e.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const got = samples(await res.text());
    const a = '{pid="101",vm="vm101",qemu_version="7.2.22",policy="legacy"}';
    const b = '{pid="102",vm="",qemu_version="10.0.2",policy="batched"}';
    expect(Object.fromEntries(got)).toEqual({
      [`coropool_qemu_stacks${a}`]: 2000,
      [`coropool_qemu_vmas${a}`]: 6553,
      [`coropool_qemu_peak_stacks${a}`]: 2100,
      [`coropool_qemu_headroom_ratio${a}`]: (65530 - 6553) / 65530,
      [`coropool_qemu_stacks${b}`]: 300,
      [`coropool_qemu_vmas${b}`]: 1200,
      [`coropool_qemu_peak_stacks${b}`]: 310,
      [`coropool_qemu_headroom_ratio${b}`]: (65530 - 1200) / 65530,
      coropool_max_map_count: 65530,
      coropool_scrape_duration_seconds: 0.004,
    });
  });

  it("drops the series of a process that went away, and shows an unreadable one as such, without numbers", async () => {
    const e = await start();
    e.updateMetrics([watched(101), watched(102)]);
    e.updateMetrics([watched(102, { stacks: 7 }), watched(103, { vm: "db", unreadable: "permission denied" })]);
    const got = samples(await e.metricsText());
    expect([...got.keys()].filter((k) => k.includes('pid="101"'))).toEqual([]);
    expect(got.get('coropool_qemu_stacks{pid="102",vm="vm102",qemu_version="7.2.22",policy="legacy"}')).toBe(7);
    expect([...got.keys()].filter((k) => k.includes('pid="103"'))).toEqual(['coropool_qemu_unreadable{pid="103",vm="db",qemu_version="7.2.22",policy="legacy",reason="permission denied"}']);
    e.updateMetrics([]);
    expect([...samples(await e.metricsText()).keys()]).toEqual(["coropool_max_map_count"]);
  });

  it("answers 404 off /metrics", async () => {
    const e = await start();
    const res = await fetch(e.url.replace("/metrics", "/"));
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("coropool serves /metrics only\n");
  });
});

describe("an address the exporter cannot listen on", () => {
  it("a port in use: one line naming it", async () => {
    const taken = await start();
    const err = await startExporter({ host: "127.0.0.1", port: taken.address.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe("ERR_LISTEN");
    expect((err as InputError).message).toBe(`cannot listen on 127.0.0.1:${taken.address.port}: the port is in use`);
  });

  it("an address that is not this host's, and a host name that does not resolve", async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never a local address.
    await expect(startExporter({ host: "192.0.2.1", port: 9464 })).rejects.toThrow(new InputError("ERR_LISTEN", "cannot listen on 192.0.2.1:9464: the address is not one of this host's"));
    await expect(startExporter({ host: "no-such-host.invalid", port: 9464 })).rejects.toThrow(/^cannot listen on no-such-host\.invalid:9464: (no such host|the host name cannot be resolved now)$/);
  });

  it("a failed start leaves no listener behind", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as { port: number }).port;
    await expect(startExporter({ host: "127.0.0.1", port })).rejects.toBeInstanceOf(InputError);
    await new Promise<void>((r) => blocker.close(() => r()));
    const e = await start(port);
    expect(e.address.port).toBe(port);
  });
});

describe("closing the exporter", () => {
  it("leaves no handle: a process that starts it, is scraped, and closes it with a request half sent exits by itself", () => {
    const exporter = join(ROOT, "dist", "src", "host", "exporter.js");
    // The half-sent request is a scrape caught mid-way: server.close() alone would wait for it for good.
    const script = `
      import { startExporter } from ${JSON.stringify(exporter)};
      import { connect } from "node:net";
      const e = await startExporter({ host: "127.0.0.1", port: 0 });
      e.updateMetrics([]);
      const body = await (await fetch(e.url)).text();
      const half = connect(e.address.port, "127.0.0.1");
      await new Promise((resolve) => half.on("connect", resolve));
      half.write("GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n");
      half.on("error", () => {});
      await new Promise((resolve) => setTimeout(resolve, 50));
      await e.close();
      console.log(body.includes("# TYPE coropool_qemu_stacks gauge") ? "scraped, closed" : "no metrics");`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 10_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("scraped, closed");
    expect(r.status).toBe(0);
  });
});
