import { TowerApiError, type TowerClient, type TowerEvent } from '../client/index.js';
import type { ConfirmationDecision, ElicitationAction, SessionStatusBody } from '../protocol/index.js';
import { typedContent } from './answer-content.js';
import type { Colors } from './color.js';
import { formatError } from './errors.js';
import type { LineInput } from './line-input.js';

/**
 * Interactive answers to what a session asks a person, for `attach` and `send` on a terminal. Events are
 * handed over as they stream (`handle` never blocks), requests are asked one at a time in arrival order,
 * and the answer is POSTed. A request answered elsewhere first (its `tool_call_confirmed` or
 * `elicitation_resolved` arrives), or whose turn ends, has its prompt closed, with a note saying so.
 */

type Request =
  | { kind: 'confirmation'; id: string; tool: string }
  | { kind: 'question'; id: string; schema: Record<string, unknown> | undefined };

const APPROVAL_CHOICES = '[a]pprove / approve [t]ool / approve [s]ession / [r]eject / [i]gnore';

export type Parsed<T> = { kind: 'answer'; value: T } | { kind: 'ignore' } | { kind: 'invalid'; message: string };

export interface Decision {
  decision: ConfirmationDecision;
  reason?: string;
}

export interface QuestionAnswer {
  action: ElicitationAction;
  content?: Record<string, unknown>;
}

const DECISION_WORDS: Record<string, ConfirmationDecision | 'ignore'> = {
  a: 'approve',
  approve: 'approve',
  y: 'approve',
  yes: 'approve',
  t: 'approve_tool',
  tool: 'approve_tool',
  s: 'approve_session',
  session: 'approve_session',
  r: 'reject',
  reject: 'reject',
  n: 'reject',
  no: 'reject',
  i: 'ignore',
  ignore: 'ignore',
};

/** Reads a reply to an approval prompt: `a`, `t`, `s`, `r [reason]` or `i` (and their spelled-out words). */
export function parseDecision(line: string): Parsed<Decision> {
  const [word = '', ...rest] = line.trim().split(/\s+/);
  const decision = DECISION_WORDS[word.toLowerCase()];
  if (decision === undefined) return { kind: 'invalid', message: 'type a, t, s, r (optionally followed by a reason) or i' };
  if (decision === 'ignore') return { kind: 'ignore' };
  const reason = rest.join(' ');
  return { kind: 'answer', value: decision === 'reject' && reason !== '' ? { decision, reason } : { decision } };
}

/** Reads a reply to a question: `/decline`, `/cancel`, `/ignore`, a JSON object, or text (see answer-content). */
export function parseQuestionAnswer(line: string, schema: Record<string, unknown> | undefined): Parsed<QuestionAnswer> {
  const text = line.trim();
  if (text === '/decline') return { kind: 'answer', value: { action: 'decline' } };
  if (text === '/cancel') return { kind: 'answer', value: { action: 'cancel' } };
  if (text === '/ignore') return { kind: 'ignore' };
  if (text === '') return { kind: 'invalid', message: 'type an answer, or /decline, /cancel or /ignore' };
  const content = typedContent(text, schema);
  if (!content.ok) return { kind: 'invalid', message: content.message };
  return { kind: 'answer', value: { action: 'accept', content: content.content } };
}

export interface ControlPromptsOptions {
  client: Pick<TowerClient, 'confirm' | 'answerElicitation'>;
  sessionId: string;
  input: LineInput;
  /** Colours of the stream the prompts and notes go to. */
  colors: Colors;
  /** Writes one line of its own (a closed prompt, a failed answer); no trailing newline. */
  note(text: string): void;
  /** Events up to this seq are history (a replay): their requests are not asked; `seed` covers those still open. */
  liveAfter?: number;
}

/** After a reply: the request is settled (answered, ignored, or failed for good), or needs asking again. */
type Outcome = 'done' | 'ask-again';

interface OpenPrompt {
  request: Request;
  controller: AbortController;
  /** Why the prompt was closed from outside, said once it is gone. */
  closedBecause?: string;
}

export class ControlPrompts {
  private readonly waiting: Request[] = [];
  private readonly seen = new Set<string>();
  private current: OpenPrompt | undefined;
  private loop: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: ControlPromptsOptions) {}

  /** Queues the requests a status says are pending (those asked before the events being followed). */
  seed(status: Pick<SessionStatusBody, 'pending_confirmations' | 'pending_elicitations'>): void {
    for (const p of status.pending_confirmations) this.enqueue({ kind: 'confirmation', id: p.tool_call_id, tool: p.tool });
    for (const p of status.pending_elicitations) this.enqueue({ kind: 'question', id: p.elicitation_id, schema: p.schema });
  }

  /** Takes one streamed event; returns at once (prompts run beside the stream). */
  handle(event: TowerEvent): void {
    if (this.closed || event.seq <= (this.options.liveAfter ?? 0)) return;
    switch (event.type) {
      case 'tool_call_confirmation':
        this.enqueue({ kind: 'confirmation', id: event.tool_call_id, tool: event.tool });
        return;
      case 'elicitation_request':
        this.enqueue({ kind: 'question', id: event.elicitation_id, schema: event.schema });
        return;
      case 'tool_call_confirmed': {
        const id = event.tool_call_id;
        // An approval for a tool or the session also settles the other waiting calls it covers.
        const covered = event.reason?.startsWith('covered by') === true;
        const what = covered ? `approved (${event.reason})` : `answered elsewhere (${event.decision.replace('_', ' ')})`;
        this.resolved(id, `${id} was ${what}`);
        return;
      }
      case 'elicitation_resolved':
        this.resolved(event.elicitation_id, `${event.elicitation_id} was answered elsewhere (${event.action})`);
        return;
      case 'stream_stopped':
        this.dropAll('the turn ended');
        return;
      case 'session_deleted':
        this.dropAll('the session was deleted');
        return;
      default:
        return;
    }
  }

  /** Closes any open prompt without a note, forgets the waiting ones, and waits for an answer being sent. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    this.current?.controller.abort();
    await this.loop;
  }

  private enqueue(request: Request): void {
    if (this.closed || this.seen.has(request.id)) return;
    this.seen.add(request.id);
    this.waiting.push(request);
    this.pump();
  }

  private resolved(id: string, because: string): void {
    const index = this.waiting.findIndex((request) => request.id === id);
    if (index !== -1) this.waiting.splice(index, 1);
    this.closeCurrent(id, because);
  }

  private dropAll(because: string): void {
    this.waiting.length = 0;
    this.closeCurrent(undefined, because);
  }

  private closeCurrent(id: string | undefined, because: string): void {
    const current = this.current;
    if (!current || (id !== undefined && current.request.id !== id)) return;
    current.closedBecause = id === undefined ? `${because}; the prompt for ${current.request.id} is closed` : `${because}; prompt closed`;
    current.controller.abort();
  }

  private pump(): void {
    if (this.loop || this.closed) return;
    this.loop = (async () => {
      for (let next = this.waiting.shift(); next && !this.closed; next = this.waiting.shift()) await this.ask(next);
    })().finally(() => {
      this.loop = undefined;
      // A request that arrived while the loop was winding down.
      if (this.waiting.length > 0) this.pump();
    });
  }

  private async ask(request: Request): Promise<void> {
    const { client, sessionId } = this.options;
    for (;;) {
      const line = await this.askLine(request, this.promptFor(request));
      if (line === undefined) return;
      let outcome: Outcome;
      if (request.kind === 'confirmation') {
        let parsed = parseDecision(line);
        // `r` alone: ask for the reason on a prompt of its own, so it is not left on screen as stray text.
        if (parsed.kind === 'answer' && parsed.value.decision === 'reject' && parsed.value.reason === undefined) {
          const reason = await this.askLine(request, `${this.options.colors.dim(`reject ${request.id}:`)} reason (Enter for none) > `);
          if (reason === undefined) return;
          const text = reason.trim();
          parsed = { kind: 'answer', value: text === '' ? { decision: 'reject' } : { decision: 'reject', reason: text } };
        }
        outcome = await this.reply(request, parsed, ({ decision, reason }) => client.confirm(sessionId, request.id, decision, reason));
      } else {
        outcome = await this.reply(request, parseQuestionAnswer(line, request.schema), ({ action, content }) =>
          client.answerElicitation(sessionId, request.id, action, content),
        );
      }
      if (outcome === 'done' || this.closed) return;
    }
  }

  /** One prompt for `request`; undefined when it was closed from outside (with the note saying why). */
  private async askLine(request: Request, prompt: string): Promise<string | undefined> {
    const controller = new AbortController();
    const current: OpenPrompt = { request, controller };
    this.current = current;
    const line = await this.options.input.ask(prompt, controller.signal);
    this.current = undefined;
    if (line === undefined && current.closedBecause !== undefined) this.options.note(this.options.colors.dim(current.closedBecause));
    return line;
  }

  private promptFor(request: Request): string {
    const c = this.options.colors;
    if (request.kind === 'confirmation') {
      return `${c.yellow('⏸')} ${c.bold(request.tool)} ${c.dim(request.id)}: ${APPROVAL_CHOICES} > `;
    }
    return `${c.yellow('❓')} ${c.dim(request.id)} answer (or /decline, /cancel, /ignore) > `;
  }

  /** Acts on a parsed reply: asks again after a typo, notes an ignore, else POSTs the answer. */
  private async reply<T>(request: Request, parsed: Parsed<T>, post: (value: T) => Promise<unknown>): Promise<Outcome> {
    const { colors: c, note } = this.options;
    if (parsed.kind === 'invalid') {
      note(c.yellow(parsed.message));
      return 'ask-again';
    }
    if (parsed.kind === 'ignore') {
      note(c.dim(`${request.id} left unanswered`));
      return 'done';
    }
    try {
      await post(parsed.value);
    } catch (error) {
      if (!(error instanceof TowerApiError)) {
        note(formatError(c, error).trimEnd());
      } else if (error.code === 'conflict') {
        note(c.dim(`${request.id} was already answered elsewhere`));
      } else if (error.code === 'not_found') {
        note(c.dim(`${request.id} is no longer waiting for an answer`));
      } else if (error.code === 'invalid_request' && request.kind === 'question') {
        // The server's schema check is the last word: say why, and ask again.
        note(c.yellow(error.message));
        return 'ask-again';
      } else {
        note(formatError(c, error).trimEnd());
      }
    }
    return 'done';
  }
}
