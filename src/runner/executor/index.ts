export { createLocalExecutor, type LocalExecutorOptions } from './executor.js';
export { BUILTIN_TOOL_NAMES, BUILTIN_TOOLS, type BuiltinToolName } from './tools/index.js';
export { displayPath, isInside, realWorkingDir, resolveInside, resolveInsideRoot } from './sandbox.js';
export { LIMITS, OUTPUTS_DIR, SKIPPED_DIRS } from './limits.js';
export type { BuiltinTool, ToolRunContext, WebAccess } from './tool.js';
