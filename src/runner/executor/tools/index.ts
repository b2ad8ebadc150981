import { bashTool } from './bash.js';
import { globTool } from './glob.js';
import { grepTool } from './grep.js';
import { listTool } from './list.js';
import { readTool } from './read.js';
import { webfetchTool } from './webfetch.js';
import { writeTool } from './write.js';

/** Every built-in tool, in the order offered to the model. */
export const BUILTIN_TOOLS = [readTool, writeTool, listTool, globTool, grepTool, bashTool, webfetchTool] as const;

export type BuiltinToolName = (typeof BUILTIN_TOOLS)[number]['name'];

export const BUILTIN_TOOL_NAMES: readonly BuiltinToolName[] = BUILTIN_TOOLS.map((tool) => tool.name);

export { bashTool, globTool, grepTool, listTool, readTool, webfetchTool, writeTool };
