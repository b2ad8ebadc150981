export { run } from './program.js';
export { nodeIo, interruptSignal, type CliIO, type Output } from './io.js';
export { createColors, colorsFor, type Colors } from './color.js';
export { createPrinter, humanPrinter, jsonPrinter, type EventPrinter, type HumanPrinterOptions } from './render.js';
export { formatError, UsageError } from './errors.js';
