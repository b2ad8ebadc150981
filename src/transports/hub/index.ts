export { Hub, HUB_PATH } from './hub.js';
export { hubTransport, type RunningHub } from './starter.js';
export { DEFAULT_HUB_OPTIONS, COMMAND_OPS, type HubOptions } from './options.js';
export { HUB_ERROR_CODES, TOPICS, parseInbound, type HubErrorCode, type Topic } from './frames.js';
