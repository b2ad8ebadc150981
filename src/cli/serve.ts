import { resolveConfig, type ServeOptions } from '../server/config.js';
import { startTower } from '../server/tower.js';

export type { ServeOptions };

/** `tower serve`: runs until SIGINT/SIGTERM, then ends running turns cleanly and closes the store. */
export async function serve(opts: ServeOptions): Promise<void> {
  const config = resolveConfig(opts);
  const tower = await startTower(config);
  const lines = [
    `Tower ${tower.demo ? '(demo mode: scripted model, no provider configured) ' : ''}listening on ${tower.url}`,
    `  data:  ${config.dataDir}`,
    `  model: ${tower.defaultModel}`,
  ];
  if (tower.token) {
    lines.push(`  token: ${tower.token}${tower.tokenFile ? `  (generated, kept in ${tower.tokenFile})` : ''}`);
  }
  lines.push(`  try:   curl ${tower.token ? `-H "Authorization: Bearer ${tower.token}" ` : ''}${tower.url}/api/sessions`);
  process.stderr.write(`${lines.join('\n')}\n`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) process.exit(1); // a second Ctrl-C: the person means it
      stopping = true;
      process.stderr.write('Tower: shutting down…\n');
      tower.close().then(resolve, (err: unknown) => {
        tower.logger.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
