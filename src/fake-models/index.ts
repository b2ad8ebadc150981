export type {
  FakeFormat,
  FakeModelServer,
  FakeServerOptions,
  NormalizedMessage,
  NormalizedToolCall,
  OfferedTool,
  ParsedRequest,
  Script,
  ScriptError,
  ScriptFunction,
  ScriptResponse,
  ScriptToolCall,
  ScriptUsage,
} from './types.js';
export { startFakeAnthropic, startFakeModelServer, startFakeOpenAI } from './server.js';
export { autoTitle, createScriptRunner, isTitleRequest, lastUserText } from './script.js';
export { splitIntoChunks } from './chunking.js';
export { DEMO_TOKENS_PER_SECOND, demoResponder } from './demo-responder.js';
export { startDemoModelServer } from './demo-server.js';
