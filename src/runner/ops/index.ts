export { runOperation } from './dispatch.js';
export type { OpContext, OpOutcome } from './context.js';
export { McpClients, configKey, MCP_CALL_TIMEOUT_MS, MCP_CONNECT_TIMEOUT_MS } from './mcp.js';
export { createShellPolicy, simpleCommands, type ShellPolicy, type ShellPolicyConfig } from './shell-policy.js';
export { fetchUrl, webfetchOp, WEBFETCH, type WebFetchOptions } from './webfetch.js';
export { isPrivateAddress, resolveSafe } from './ssrf.js';
