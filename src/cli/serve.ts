import { resolveConfig, type ServeOptions, type TowerConfig } from '../server/config.js';
import { startTower, type Tower } from '../server/tower.js';

export type { ServeOptions };

/** `tower serve`: runs until SIGINT/SIGTERM, then ends running turns cleanly and closes the store. */
export async function serve(opts: ServeOptions): Promise<void> {
  const config = resolveConfig(opts);
  const tower = await startTower(config);
  process.stderr.write(banner(tower, config));

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

/** What is true about this Tower: where it listens, whether demo mode is on and why, which providers. */
export function banner(tower: Pick<Tower, 'url' | 'demo' | 'providers' | 'defaultModel' | 'token' | 'tokenFile'>, config: Pick<TowerConfig, 'demo' | 'dataDir'>): string {
  const providers = tower.providers.length ? tower.providers.join(', ') : 'none';
  const lines = [`Tower listening on ${tower.url}`];
  if (tower.demo) {
    const why = config.demo ? 'on (--demo)' : 'on (no model provider configured)';
    lines.push(`  demo:      ${why}: a scripted model on a local fake server, no API key used`);
  }
  lines.push(`  providers: ${providers}${tower.demo ? ' (+ demo)' : ''}`);
  lines.push(`  model:     ${tower.defaultModel} (default for new sessions)`);
  lines.push(`  data:      ${config.dataDir}`);
  if (tower.token) {
    lines.push(`  token:     ${tower.token}${tower.tokenFile ? `  (generated, kept in ${tower.tokenFile})` : ''}`);
  }
  lines.push(`  try:       curl ${tower.token ? `-H "Authorization: Bearer ${tower.token}" ` : ''}${tower.url}/api/sessions`);
  return `${lines.join('\n')}\n`;
}
