export { askUserToolSpec, parseAskUserArgs, type AskUserArgs } from './ask-user.js';
export {
  PendingRequests,
  RequestCanceledError,
  type PendingEntry,
  type PendingRequestsOptions,
} from './pending-requests.js';
export { compileElicitationSchema, validateElicitationContent, type ElicitationValidation } from './schema.js';
