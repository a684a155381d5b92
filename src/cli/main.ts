// The steer command line: a thin shell over the library. Each command group lives in its own
// file and registers itself here; main() maps errors to exit codes (user error 2, bug 1).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { fileSystemError, isUserError } from '../util/errors.js';
import { registerDemo } from './demo.js';
import { registerInfo } from './info.js';
import { registerData } from './data.js';
import { registerRm } from './rm.js';
import { registerGenerate } from './generate.js';
import { registerConvert } from './convert.js';
import { registerSft } from './sft.js';
import { registerRl } from './rl.js';
import { registerDpo } from './dpo.js';
import { registerEval } from './eval.js';
import { registerServe } from './serve.js';
import { registerAnnotate } from './annotate.js';
import { registerEvalMmluPro } from './eval-mmlupro.js';
import { registerScale } from './scale.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('steer')
    .description(
      'The Nemotron alignment recipe: HelpSteer2 reward models (regression, Bradley-Terry, Scaled BT, ExPO),\n' +
        'REINFORCE with a leave-one-out baseline, DPO, and the evaluations that judge them.',
    )
    .version(packageVersion(), '-V, --version', 'print the steer version')
    .helpOption('-h, --help', 'show help for steer or a command')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      '\nStart with `steer demo` (the whole recipe on the built-in toy world); `steer <command> --help` teaches each command.',
    );
  registerDemo(program);
  registerInfo(program);
  registerData(program);
  registerRm(program);
  registerGenerate(program);
  registerConvert(program);
  registerSft(program);
  registerRl(program);
  registerDpo(program);
  registerEval(program);
  registerServe(program);
  registerAnnotate(program);
  registerEvalMmluPro(program);
  registerScale(program);
  return program;
}

/**
 * Usage errors (unknown option, missing argument, bad choice) at any depth become a CommanderError
 * that main() maps to exit 2; commander only sets this per command, so walk the whole tree —
 * commands registered later (and their sub-commands) are covered too.
 */
export function usageErrorsExit2(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  for (const sub of cmd.commands) usageErrorsExit2(sub);
}

/** Run the CLI; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  usageErrorsExit2(program);
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command whose result is another program's exit status (steer launch) sets process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (caught) {
    // a file-system failure no writer mapped (full disk, a directory in the way): still exit 2
    const e = fileSystemError(caught);
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      // commander has already printed "error: ..." for usage errors.
      process.stderr.write('Run `steer --help` for the list of commands.\n');
      return 2;
    }
    if (isUserError(e)) {
      process.stderr.write(`steer: error: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`steer: internal error (please report it):\n${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}
