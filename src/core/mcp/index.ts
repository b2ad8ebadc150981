export { LocalMcp, type McpBackend, type McpCallContext, type McpElicitAnswer, type McpElicitHandler, type McpElicitation, type McpSelector } from './backend.js';
export { MCP_LIST_CACHE_MS, MCP_LIST_TIMEOUT_MS, MCP_SERVER_FAILED, McpHost, type McpHostOptions, type McpTurnOptions } from './host.js';
export { MAX_TOOL_NAME, MCP_TOOL_PREFIX, mcpServerPrefix, mcpToolName } from './names.js';
export { McpTurnTools } from './turn-tools.js';
