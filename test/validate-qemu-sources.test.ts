/**
 * validate:qemu's apt sources: the bookworm-backports source it hands its own
 * apt-get takes the mirror and the Signed-By of the system's own bookworm
 * entry. Each case is an apt configuration written into a temp folder.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script of the project, without type declarations
import { releaseMirror, suiteSource } from "../scripts/validate-qemu/apt-sources.mjs";

interface Mirror {
  uri: string;
  signedBy: string | null;
  style: "deb822" | "one-line";
  file: string;
}
const mirrorOf = releaseMirror as (aptDir: string, suite?: string) => Mirror;
const sourceFor = suiteSource as (mirror: Mirror, suite: string) => { name: string; text: string };

/** An apt folder with the given files (paths relative to it). */
function aptDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "coropool-apt-"));
  mkdirSync(join(dir, "sources.list.d"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const LOCAL = "http://mirror.example.internal/debian";
const OTHER = "https://pkgs.example.org/debian";

const DEB822 = `Types: deb
# a comment inside the stanza
URIs: ${LOCAL}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/local-archive.gpg

Types: deb
URIs: ${LOCAL}-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/local-archive.gpg
`;

describe("validate:qemu reads the system's mirror for bookworm-backports", () => {
  it("deb822: the bookworm stanza's URI and Signed-By, written back as deb822", () => {
    const dir = aptDir({ "sources.list.d/debian.sources": DEB822 });
    const mirror = mirrorOf(dir);
    expect(mirror).toEqual({ uri: LOCAL, signedBy: "/usr/share/keyrings/local-archive.gpg", style: "deb822", file: join(dir, "sources.list.d", "debian.sources") });
    expect(sourceFor(mirror, "bookworm-backports")).toEqual({
      name: "backports.sources",
      text: `Types: deb\nURIs: ${LOCAL}\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/local-archive.gpg\n`,
    });
  });

  it("deb822: an embedded key keeps its continuation lines; a disabled stanza and deb-src are passed over", () => {
    const key = "\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mQINBGQ\n -----END PGP PUBLIC KEY BLOCK-----";
    const dir = aptDir({
      "sources.list.d/a-off.sources": `Types: deb\nURIs: ${OTHER}\nSuites: bookworm\nComponents: main\nEnabled: no\n\nTypes: deb-src\nURIs: ${OTHER}\nSuites: bookworm\nComponents: main\n`,
      "sources.list.d/b-local.sources": `Types: deb deb-src\nURIs: ${LOCAL}\nSuites: bookworm\nComponents: main\nSigned-By:${key}\n`,
    });
    const mirror = mirrorOf(dir);
    expect(mirror.uri).toBe(LOCAL);
    expect(mirror.signedBy).toBe(key);
    expect(sourceFor(mirror, "bookworm-backports").text).toContain(`Signed-By: ${key}\n`);
  });

  it("one-line: the entry's [signed-by=...] option, written back as a one-line entry", () => {
    const dir = aptDir({
      "sources.list": `# the local mirror\ndeb-src ${OTHER} bookworm main\ndeb [arch=amd64 signed-by=/etc/apt/keyrings/local.gpg] ${LOCAL} bookworm main contrib\ndeb ${LOCAL}-security bookworm-security main\n`,
    });
    const mirror = mirrorOf(dir);
    expect(mirror).toEqual({ uri: LOCAL, signedBy: "/etc/apt/keyrings/local.gpg", style: "one-line", file: join(dir, "sources.list") });
    expect(sourceFor(mirror, "bookworm-backports")).toEqual({
      name: "backports.list",
      text: `deb [signed-by=/etc/apt/keyrings/local.gpg] ${LOCAL} bookworm-backports main\n`,
    });
  });

  it("one-line without signed-by: no Signed-By (apt's own keyrings decide)", () => {
    const mirror = mirrorOf(aptDir({ "sources.list": `deb ${LOCAL} bookworm main\n` }));
    expect(mirror.signedBy).toBeNull();
    expect(sourceFor(mirror, "bookworm-backports").text).toBe(`deb ${LOCAL} bookworm-backports main\n`);
  });

  it("both kinds: apt's order decides (sources.list, then sources.list.d by name); ignored extensions are ignored", () => {
    const both = {
      "sources.list": `deb [signed-by=/etc/apt/keyrings/one.gpg] ${OTHER} bookworm main\n`,
      "sources.list.d/debian.sources": DEB822,
    };
    expect(mirrorOf(aptDir(both))).toMatchObject({ uri: OTHER, signedBy: "/etc/apt/keyrings/one.gpg", style: "one-line" });
    // sources.list serves only security: the deb822 file's bookworm stanza is the one.
    const securityOnly = { ...both, "sources.list": `deb ${OTHER}-security bookworm-security main\n` };
    expect(mirrorOf(aptDir(securityOnly))).toMatchObject({ uri: LOCAL, style: "deb822" });
    // A file apt does not read (not .list or .sources) does not count, even first by name.
    const disabled = { "sources.list.d/0-old.list.disabled": `deb ${OTHER} bookworm main\n`, "sources.list.d/debian.sources": DEB822 };
    expect(mirrorOf(aptDir(disabled)).uri).toBe(LOCAL);
  });

  it("none: one line naming the suite and where it looked", () => {
    const empty = aptDir({});
    const message = `no apt source serves bookworm (type deb) in ${join(empty, "sources.list")} or ${join(empty, "sources.list.d")}/*.list, *.sources`;
    expect(() => mirrorOf(empty)).toThrow(message);
    const securityOnly = aptDir({ "sources.list": `deb ${LOCAL}-security bookworm-security main\n` });
    expect(() => mirrorOf(securityOnly)).toThrow(/^no apt source serves bookworm \(type deb\) in [^\n]*$/);
  });
});
