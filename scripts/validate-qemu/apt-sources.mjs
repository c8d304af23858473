/**
 * The system's own Debian mirror, read from its apt configuration, for the
 * bookworm-backports source validate:qemu gives its own apt-get call.
 *
 * A host may fetch packages from a local mirror signed with its own key; the
 * backports suite lives beside the release on that same mirror, so the source
 * validate:qemu writes takes the URI and the Signed-By of the entry that
 * serves the release (its codename as a suite, type deb, not disabled). Files
 * are read in apt's own order: sources.list, then sources.list.d's *.list
 * (one-line) and *.sources (deb822) files sorted by name; the first entry
 * that fits wins. Files apt ignores (other extensions) are ignored here too.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The entry serving `suite` in the apt configuration under `aptDir`:
 * `{ uri, signedBy, style, file }`. `signedBy` is the value as written (a
 * deb822 value keeps its continuation lines, so an embedded key survives),
 * or null when the entry relies on apt's global keyrings; `style` is
 * "deb822" or "one-line". Throws a one-line Error when no entry fits.
 */
export function releaseMirror(aptDir = "/etc/apt", suite = "bookworm") {
  for (const file of sourceFiles(aptDir)) {
    const text = readFileSync(file, "utf8");
    const entries = file.endsWith(".sources") ? deb822Entries(text) : oneLineEntries(text);
    const found = entries.find((e) => e.types.includes("deb") && e.suites.includes(suite) && e.uris.length > 0);
    if (found) return { uri: found.uris[0], signedBy: found.signedBy, style: found.style, file };
  }
  throw new Error(`no apt source serves ${suite} (type deb) in ${join(aptDir, "sources.list")} or ${join(aptDir, "sources.list.d")}/*.list, *.sources`);
}

/**
 * The apt sources file that adds `suite` (e.g. bookworm-backports) from the
 * mirror `releaseMirror` found, in that entry's own style so Signed-By keeps
 * its meaning: `{ name, text }`, name "backports.sources" or "backports.list".
 * `types`: "deb" for packages, "deb-src" too for source packages.
 */
export function suiteSource(mirror, suite, component = "main", types = ["deb"]) {
  if (mirror.style === "deb822") {
    const signed = mirror.signedBy === null ? "" : `Signed-By: ${mirror.signedBy}\n`;
    return { name: "backports.sources", text: `Types: ${types.join(" ")}\nURIs: ${mirror.uri}\nSuites: ${suite}\nComponents: ${component}\n${signed}` };
  }
  const options = mirror.signedBy === null ? "" : `[signed-by=${mirror.signedBy}] `;
  return { name: "backports.list", text: types.map((type) => `${type} ${options}${mirror.uri} ${suite} ${component}\n`).join("") };
}

/**
 * An apt state of its own under `aptDir` (sources list, lists, cache), with
 * one source: `suite` from the mirror serving bookworm in /etc/apt, of the
 * given types. Returns the apt-get options that use it; the system's apt
 * sources and state are not touched.
 */
export function ownAptState(aptDir, suite, types = ["deb"]) {
  rmSync(join(aptDir, "parts"), { recursive: true, force: true });
  for (const d of ["lists/partial", "cache/archives/partial", "parts"]) mkdirSync(join(aptDir, d), { recursive: true });
  // The system's own mirror and key for bookworm, with the suite asked for: a source of our own, beside the system's.
  const source = suiteSource(releaseMirror("/etc/apt", "bookworm"), suite, "main", types);
  writeFileSync(join(aptDir, "sources.list"), "");
  writeFileSync(join(aptDir, "parts", source.name), source.text);
  return [
    "-o", `Dir::Etc::SourceList=${join(aptDir, "sources.list")}`,
    "-o", `Dir::Etc::SourceParts=${join(aptDir, "parts")}`,
    "-o", `Dir::State::Lists=${join(aptDir, "lists")}`,
    "-o", `Dir::Cache=${join(aptDir, "cache")}`,
    "-o", "APT::Sandbox::User=root",
    "-q",
  ];
}

/** sources.list, then sources.list.d/*.list and *.sources by name: the files apt reads, in its order. */
function sourceFiles(aptDir) {
  const files = [];
  const list = join(aptDir, "sources.list");
  if (existsSync(list)) files.push(list);
  const parts = join(aptDir, "sources.list.d");
  if (existsSync(parts)) {
    const names = readdirSync(parts).filter((n) => /^[A-Za-z0-9_.-]+\.(list|sources)$/.test(n)).sort();
    for (const name of names) files.push(join(parts, name));
  }
  return files;
}

/** `deb [opt=v ...] URI SUITE COMPONENT...` lines; `#` starts a comment. */
function oneLineEntries(text) {
  const entries = [];
  for (const raw of text.split("\n")) {
    let line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    const type = line.split(/\s+/, 1)[0];
    line = line.slice(type.length).trim();
    let signedBy = null;
    const options = /^\[([^\]]*)\]/.exec(line);
    if (options) {
      line = line.slice(options[0].length).trim();
      for (const option of options[1].trim().split(/\s+/)) {
        const m = /^signed-by=(.+)$/i.exec(option);
        if (m) signedBy = m[1];
      }
    }
    const [uri, suite] = line.split(/\s+/);
    if (uri === undefined || suite === undefined) continue;
    entries.push({ style: "one-line", types: [type], uris: [uri], suites: [suite], signedBy });
  }
  return entries;
}

/** deb822 stanzas (blank-line separated; `#` lines are comments; a line starting with a space continues the field). */
function deb822Entries(text) {
  const entries = [];
  for (const stanza of text.split(/\n[ \t]*\n/)) {
    const fields = new Map();
    let last = null;
    for (const line of stanza.split("\n")) {
      if (line.startsWith("#") || line.trim() === "") continue;
      if (/^[ \t]/.test(line) && last !== null) {
        fields.set(last, fields.get(last) + "\n" + line);
        continue;
      }
      const m = /^([^:\s]+):[ \t]*(.*)$/.exec(line);
      if (!m) continue;
      last = m[1].toLowerCase();
      fields.set(last, m[2]);
    }
    if (fields.size === 0) continue;
    if (/^(no|false|0)$/i.test((fields.get("enabled") ?? "yes").trim())) continue;
    const words = (key) => (fields.get(key) ?? "").trim().split(/\s+/).filter((w) => w !== "");
    const signedBy = fields.has("signed-by") ? fields.get("signed-by") : null;
    entries.push({ style: "deb822", types: words("types"), uris: words("uris"), suites: words("suites"), signedBy });
  }
  return entries;
}
