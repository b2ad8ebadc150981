import type { Command } from 'commander';
import type { CommandRunner, GlobalOptions } from '../context.js';
import { parseCount } from '../options.js';

interface ServeFlags {
  host?: string;
  port?: string;
  dataDir?: string;
  model?: string;
  demo?: boolean;
  config?: string;
  /** `--bus redis://...` (the cluster bus) or `false` from `--no-bus` (no Pando instance bus). */
  bus?: boolean | string;
  busPort?: string;
  busHost?: string;
  store?: string;
}

/**
 * `tower serve`. The server is imported only here, so the client commands never load it. Only flags given
 * on the command line are passed: the server resolves its own environment and config file, and a flag
 * must win over both.
 */
export function registerServe(program: Command, run: CommandRunner): void {
  program
    .command('serve')
    .description('run the Tower server')
    .option('--host <host>', 'interface to listen on')
    .option('--port <port>', 'port to listen on')
    .option('--data-dir <dir>', 'where sessions and event logs are stored')
    .option('--model <provider/model>', 'default model for new sessions')
    .option('--demo', 'use the scripted demo model, no API key needed')
    .option('--config <file>', 'config file')
    .option('--bus-port <port>', "Pando instance bus: PUB port (RPC is the next); default derived from the working dir")
    .option('--bus-host <host>', 'bind the instance bus elsewhere than 127.0.0.1 (it has no authentication)')
    .option('--no-bus', 'do not open the Pando instance bus')
    .option('--store <url>', 'postgres://... store shared by a cluster (default: SQLite in the data dir; env TOWER_STORE_URL)')
    .option('--bus <url>', 'redis://... bus shared by a cluster (default: in-process; env TOWER_BUS_URL)')
    .addHelpText('after', '\nThe global --token sets the bearer token the server requires.\n')
    .action((flags: ServeFlags, command: Command) =>
      run(async () => {
        // `--token` is a global option (the client commands send it), so commander files it there.
        const { token } = command.optsWithGlobals<GlobalOptions>();
        const { serve } = await import('../serve.js');
        const options = {
          host: flags.host,
          port: flags.port === undefined ? undefined : parseCount('--port', flags.port),
          dataDir: flags.dataDir,
          token,
          model: flags.model,
          demo: flags.demo,
          config: flags.config,
          bus: flags.bus === false ? false : undefined,
          busPort: flags.busPort === undefined ? undefined : parseCount('--bus-port', flags.busPort),
          busHost: flags.busHost,
          store: flags.store,
          busUrl: typeof flags.bus === 'string' ? flags.bus : undefined,
        };
        // Absent flags are left out, not set to undefined, so they cannot shadow the server's defaults.
        await serve(Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)));
        return 0;
      }),
    );
}
