import type { Logger } from 'pino';
import type { Store } from '../../store/types.js';

/** First look at the store after a commit of unknown outcome (ms), doubling while it cannot answer. */
const PROBE_MIN_MS = 50;
const PROBE_MAX_MS = 2000;

/**
 * Sessions of batches that failed with `commit_outcome_unknown` (GroupCommit's). If such a batch
 * landed, its events are stored and never published: a subscriber of an in-process bus would not
 * notice until the session's next event shows the gap, and waits for ever if none comes. So once the
 * store answers again (the next successful commit, `answered`, or a probe on a backing-off timer),
 * `recheck` has the subscribers of those sessions read the store from their cursors. Nothing is
 * signalled at failure time: reading while the store is still down would fail and end the subscriptions.
 */
export class CommitDoubts {
  private readonly sessions = new Set<string>();
  /** Bumped with every doubtful batch: a probe that began before it does not vouch for it. */
  private doubts = 0;
  /** A probe cycle is on (its timer armed or its read out); `probeRun` numbers the cycles. */
  private probing = false;
  private probeRun = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private probeDelay = PROBE_MIN_MS;
  private closed = false;

  constructor(
    private readonly store: Pick<Store, 'lastSeq'>,
    private readonly recheck: (sessionIds: readonly string[]) => void,
    private readonly logger: Logger,
  ) {}

  /** Whether any session waits for the store to answer again. */
  get pending(): boolean {
    return this.sessions.size > 0;
  }

  /** A batch of these sessions' entries failed with an unknown outcome. */
  add(sessionIds: Iterable<string>): void {
    if (this.closed) return;
    for (const id of sessionIds) this.sessions.add(id);
    this.doubts++;
    if (this.probing) return;
    this.probing = true;
    this.probeDelay = PROBE_MIN_MS;
    this.armProbe(this.probeRun);
  }

  /** The store answered (a commit succeeded): whatever a doubtful commit stored is readable now. */
  answered(): void {
    if (this.sessions.size > 0) this.resolve();
  }

  /** Stops looking at the store (it is about to close). */
  close(): void {
    this.closed = true;
    this.stopProbe();
    this.sessions.clear();
  }

  private armProbe(run: number): void {
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.probe(run);
    }, this.probeDelay);
    // A probe must not keep the process alive on its own.
    this.probeTimer.unref();
  }

  /**
   * One cheap read; its success means the store answers, which settles every doubt raised before it
   * began. `run` is the probe cycle: a cycle stopped meanwhile (`stopProbe`) ends here.
   */
  private async probe(run: number): Promise<void> {
    const session = this.sessions.values().next().value;
    const since = this.doubts;
    if (run !== this.probeRun) return;
    if (session === undefined) {
      this.probing = false;
      return;
    }
    try {
      await this.store.lastSeq(session);
    } catch {
      if (run !== this.probeRun) return;
      this.probeDelay = Math.min(this.probeDelay * 2, PROBE_MAX_MS);
      this.armProbe(run);
      return;
    }
    if (run !== this.probeRun) return;
    if (since !== this.doubts) {
      // A batch failed while the probe was out: the store may be down again, look once more.
      this.probeDelay = PROBE_MIN_MS;
      this.armProbe(run);
      return;
    }
    this.resolve();
  }

  private stopProbe(): void {
    this.probeRun++;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.probing = false;
  }

  private resolve(): void {
    this.stopProbe();
    const sessions = [...this.sessions];
    this.sessions.clear();
    this.logger.info({ sessions: sessions.length }, 'store answers again: subscribers re-read the sessions of commits of unknown outcome');
    try {
      this.recheck(sessions);
    } catch (err) {
      this.logger.error({ err }, 'group commit recheck threw');
    }
  }
}
