export { run } from './program.js';
export { nodeIo, interruptSignal, promptInput, type CliIO, type Output } from './io.js';
export { createColors, colorsFor, type Colors } from './color.js';
export { createPrinter, humanPrinter, jsonPrinter, type EventPrinter, type HumanPrinterOptions } from './render.js';
export { formatError, UsageError } from './errors.js';
export { ControlPrompts, parseDecision, parseQuestionAnswer, type ControlPromptsOptions } from './prompts.js';
export { TerminalInput, type LineInput } from './line-input.js';
export { textContent, jsonContent, type ContentResult } from './answer-content.js';
