import { z } from 'zod';
import { WebFetchFormat } from '../../../protocol/runner.js';
import { fetchPage, WEBFETCH } from '../../ops/webfetch.js';
import { LIMITS } from '../limits.js';
import { spillIfLong } from '../spill.js';
import { defineTool, fail, ok } from '../tool.js';

const schema = z.object({
  url: z.string().min(1).describe('The http or https URL to fetch.'),
  format: WebFetchFormat.default('markdown').describe(
    'How to return an HTML page: "markdown" (default), "text" (tags stripped) or "html" (as served). Other content types come back as they are.',
  ),
  timeout: z
    .number()
    .positive()
    .max(WEBFETCH.maxTimeoutSec)
    .optional()
    .describe(`Seconds to wait for the whole fetch (default ${WEBFETCH.defaultTimeoutSec}, at most ${WEBFETCH.maxTimeoutSec}).`),
});

/**
 * `webfetch` for local sessions: the runner's webfetch operation (same SSRF guard on the address actually
 * connected to, 5 redirects each re-checked, 5 MB cap, HTML converted off the event loop), with the local
 * tools' truncation. Only for sessions that allow network access.
 */
export const webfetchTool = defineTool({
  name: 'webfetch',
  description: [
    'Fetch a web page (GET, http or https) and return it as markdown, text or html.',
    `Follows at most ${WEBFETCH.maxRedirects} redirects; bodies over ${WEBFETCH.maxBytes / (1024 * 1024)} MB are refused.`,
    'Loopback, private and link-local addresses are refused unless the server allows them.',
    `A result over ${LIMITS.maxResultChars} characters is saved whole under .tower/outputs/ and previewed;`,
    'read that file with offset/limit for the rest.',
  ].join(' '),
  schema,
  async run(args, ctx) {
    if (!ctx.commands.network) {
      return fail('webfetch is off for this session: it has no network access (set `network: true` on the session, or `network` in the server config)');
    }
    const page = await fetchPage(args, { signal: ctx.signal, ...ctx.web });
    const redirected = page.url !== new URL(args.url).toString() ? `[fetched ${page.url} after redirects]\n\n` : '';
    return ok(await spillIfLong(`${redirected}${page.content}`, ctx.root, ctx.callId));
  },
});
