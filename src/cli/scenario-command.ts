/**
 * The one shape of every command that runs a scenario (stress, imbalance,
 * randread, run): parse the flags, answer --help, read the scenario file
 * (a bundled one by default), check its kind, apply the command's own flags,
 * check the --report path, run the experiment, then print its text or JSON
 * and exit with the status its runs earned. Each command says only what is
 * its own.
 */
import { InputError } from "../errors.js";
import { BUNDLED_SCENARIOS, bundledPath, bundledOrPath } from "../experiments/bundled.js";
import type { ThreadedExperimentOptions } from "../experiments/options.js";
import type { PolicyName } from "../pools/index.js";
import type { ResultDocument } from "../report/document.js";
import type { Scenario } from "../scenarios/types.js";
import { scenarioInputFiles } from "../scenarios/registry.js";
import { loadScenarioFile } from "../scenarios/validate.js";
import { parseCommandArgs, type OptionSpec, type ParsedArgs } from "./args.js";
import { commandOutput, REPORT_OPTION, reportPathFlag } from "./command-output.js";
import { EXIT, type CommandResult } from "./exit.js";
import { Interrupt } from "./interrupt.js";
import { RUNTIME_OPTIONS, runtimeFlags, withExperimentOptions, type RuntimeFlags } from "./runtime-flags.js";

/** What a command's experiment produced: the document for --json and --report, its text, the exit status. */
export interface CommandOutcome {
  document: ResultDocument;
  text: () => string;
  exitCode: number;
  /** One line for stderr (which thread died and why), when the runs earned one. */
  stderr?: string;
}

export interface ScenarioCommand<S extends Scenario> {
  name: string;
  help: string;
  /** The kind of scenario the command runs; undefined: any kind. */
  kind?: S["kind"];
  /**
   * The bundled scenario run without --scenario; undefined: the scenario is
   * the command's one argument instead (and --scenario is refused).
   */
  defaultScenario?: string;
  defaultPolicies: PolicyName[];
  /** The flags of this command only (the runtime flags and --report are everyone's). */
  options?: OptionSpec;
  /** Refuses a runtime flag that does not apply, before the scenario is read. */
  checkFlags?(flags: RuntimeFlags): void;
  /** The command's own flags applied to the scenario, after its kind was checked. */
  prepare?(scenario: S, values: ParsedArgs["values"], flags: RuntimeFlags): S;
  /** Runs the experiment (the --report path is already checked); `values` has the command's own flags. */
  execute(scenario: S, file: string, flags: RuntimeFlags, options: ThreadedExperimentOptions, values: ParsedArgs["values"]): Promise<CommandOutcome>;
}

/** The command line function of a scenario command. */
export function scenarioCommand<S extends Scenario>(command: ScenarioCommand<S>): (argv: string[], interrupt?: Interrupt) => Promise<CommandResult> {
  return async (argv, interrupt = new Interrupt()) => {
    const { name } = command;
    const takesArgument = command.defaultScenario === undefined;
    const { values, positionals } = parseCommandArgs(name, argv, { ...RUNTIME_OPTIONS, ...REPORT_OPTION, ...command.options }, takesArgument ? 1 : 0);
    if (values.help) return { stdout: command.help, exitCode: EXIT.OK };
    const argument = takesArgument ? scenarioArgument(name, values, positionals) : undefined;
    const flags = runtimeFlags(values, command.defaultPolicies);
    command.checkFlags?.(flags);
    const file = argument ?? flags.scenario ?? bundledPath(BUNDLED_SCENARIOS, command.defaultScenario!);
    const loaded = ofKind(name, command.kind, loadScenarioFile(file));
    const scenario = command.prepare ? command.prepare(loaded, values, flags) : loaded;
    const reportPath = reportPathFlag(values.report, scenarioInputFiles(scenario, file));
    const signal = interrupt.stopsGracefully();
    const outcome = await withExperimentOptions(flags, signal, (options) => command.execute(scenario, file, flags, options, values));
    return {
      ...commandOutput(outcome.document, outcome.text, flags.json, reportPath, signal),
      exitCode: outcome.exitCode,
      ...(outcome.stderr === undefined ? {} : { stderr: outcome.stderr }),
    };
  };
}

/** The scenario given as the command's argument (a bundled name or a path). */
function scenarioArgument(command: string, values: ParsedArgs["values"], positionals: string[]): string {
  const value = positionals[0];
  if (value === undefined) throw new InputError("ERR_USAGE", `${command}: missing the SCENARIO file; see 'coropool ${command} --help'`);
  if (values.scenario !== undefined) throw new InputError("ERR_USAGE", `${command}: give the scenario as the argument, not with --scenario`);
  return bundledOrPath(BUNDLED_SCENARIOS, value, command);
}

function ofKind<S extends Scenario>(command: string, kind: S["kind"] | undefined, scenario: Scenario): S {
  if (kind !== undefined && scenario.kind !== kind) {
    throw new InputError("ERR_USAGE", `${command}: the scenario is of kind '${scenario.kind}'; ${command} needs kind '${kind}' (or use 'coropool run FILE')`);
  }
  return scenario as S;
}
