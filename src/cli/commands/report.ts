import { InputError } from "../../errors.js";
import { prepareReportPath, readResultDocument, renderResultDocument, writeFileAtomic } from "../../report/index.js";
import { EXIT, type CommandResult } from "../exit.js";
import { flag, flagHelp, readFlags } from "../flag-table.js";

const REPORT_FLAGS = [flag("output", "FILE.html", "where to write the page (default: RESULT with .html)", "o")];

export const REPORT_HELP = `Usage: coropool report RESULT.json [-o FILE.html]

Renders a saved result (what demo, stress, imbalance, randread, run, whatif or plan
print with --json) as one self-contained HTML page: VMAs over time per policy
with the limit and any abort, pooled stacks per thread over time, randread
IOPS against iodepth, the parameters and the machine. No network is needed to
write it or to view it.

Options:
${flagHelp(REPORT_FLAGS)}

  -o accepts a new path or a regular file (a symlink is written through, the
  link stays; missing folders are made); a device, FIFO, socket or folder is
  refused, and so is the RESULT file itself (also through a link).

Exit status: 0 written, 2 bad input (unreadable, unsupported or oversized
result, bad output path), 6 the page could not be written, 130/143 stopped by
SIGINT/SIGTERM, 1 internal error.

Examples:
  coropool stress --json > stress.json; coropool report stress.json -o stress.html
  coropool demo --json > demo.json && coropool report demo.json`;

export async function reportCommand(argv: string[]): Promise<CommandResult> {
  const flags = readFlags("report", argv, REPORT_FLAGS, 1);
  if (flags.help) return { stdout: REPORT_HELP, exitCode: EXIT.OK };
  const file = flags.positionals[0];
  if (file === undefined) throw new InputError("ERR_USAGE", "report: missing the RESULT.json file; see 'coropool report --help'");
  const doc = readResultDocument(file);
  const output = prepareReportPath(flags.output ?? defaultOutput(file), "-o", [file]);
  await writeFileAtomic(output, renderResultDocument(doc, file), "-o", [file]);
  return { stdout: `report: ${output}`, exitCode: EXIT.OK };
}

function defaultOutput(file: string): string {
  return /\.json$/i.test(file) ? file.replace(/\.json$/i, ".html") : `${file}.html`;
}
