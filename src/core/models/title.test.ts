import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROVIDER_CASES, startRig, type Rig } from '../../fake-models/testing/rig.js';
import { closeIdleConnections } from './wire/http1.js';
import { TITLE_SYSTEM_PROMPT, TITLE_TIMEOUT_MS, cleanTitle, generateTitle } from './title.js';

describe('cleanTitle', () => {
  it('strips quotes, prefixes, trailing periods and extra lines', () => {
    expect(cleanTitle('"Fixing the build"')).toBe('Fixing the build');
    expect(cleanTitle('Title: **Refactor auth flow.**\nextra')).toBe('Refactor auth flow');
    expect(cleanTitle('\n  “Deploy to prod”  ')).toBe('Deploy to prod');
    expect(cleanTitle('   ')).toBeUndefined();
  });

  it('cuts to 60 characters at a word boundary', () => {
    const title = cleanTitle('word '.repeat(30));
    expect(title?.length).toBeLessThanOrEqual(60);
    expect(title?.endsWith('word')).toBe(true);
    expect(cleanTitle('x'.repeat(100))).toBe('x'.repeat(60));
  });
});

describe.each(PROVIDER_CASES)('generateTitle via $providerType', ({ providerType, format }) => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.server.close();
    rig = undefined;
  });

  it('asks with the title prompt and returns the cleaned answer', async () => {
    rig = await startRig(providerType, format, (request) =>
      request.system === TITLE_SYSTEM_PROMPT ? { text: '"Planning a trip to Lisbon."' } : { text: 'not a title' },
    );
    const title = await generateTitle(rig.registry, rig.model, 'I want to plan a trip to Lisbon next spring');
    expect(title).toBe('Planning a trip to Lisbon');
    expect(rig.server.parsed[0]?.system).toBe(TITLE_SYSTEM_PROMPT);
    expect(rig.server.parsed[0]?.messages).toEqual([{ role: 'user', text: 'I want to plan a trip to Lisbon next spring' }]);
    expect(rig.server.parsed[0]?.tools).toEqual([]);
  });

  it("streams through Tower's wire path, never through fetch (the AI SDK's own request path)", async () => {
    rig = await startRig(providerType, format, (request) => (request.system === TITLE_SYSTEM_PROMPT ? { text: 'Wire title' } : { text: 'x' }));
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      expect(await generateTitle(rig.registry, rig.model, 'hello')).toBe('Wire title');
      expect(await generateTitle(rig.registry, rig.model, 'hello again')).toBe('Wire title');
    } finally {
      fetchSpy.mockRestore();
    }
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(rig.server.parsed.map((r) => r.stream)).toEqual([true, true]);
  });

  it('gets the automatic title from a list script without consuming it', async () => {
    rig = await startRig(providerType, format, [{ text: 'first real answer' }]);
    expect(await generateTitle(rig.registry, rig.model, 'how do I rotate my ssh keys?')).toBe('How do I rotate my ssh');
  });

  it('returns undefined on an HTTP error', async () => {
    rig = await startRig(providerType, format, () => ({ error: { status: 500, message: 'down' } }));
    expect(await generateTitle(rig.registry, rig.model, 'hello')).toBeUndefined();
  });
});

describe('generateTitle failures', () => {
  it('returns undefined for an unknown model and for an aborted signal', async () => {
    const rig = await startRig('openai', 'openai', [{ text: 'x' }]);
    try {
      expect(await generateTitle(rig.registry, 'nope/model', 'hello')).toBeUndefined();
      expect(await generateTitle(rig.registry, rig.model, 'hello', AbortSignal.abort())).toBeUndefined();
    } finally {
      await rig.server.close();
    }
  });
});

describe('generateTitle timeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives up on an answer that never ends after TITLE_TIMEOUT_MS and leaves no timer behind', async () => {
    let asked!: () => void;
    const requested = new Promise<void>((resolve) => (asked = resolve));
    const rig = await startRig('openai', 'openai', () => {
      asked();
      return { text: 'Half a', hang: true };
    });
    try {
      // Only the title's own timer is faked: sockets and the stream's turns run as usual.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const title = generateTitle(rig.registry, rig.model, 'hello');
      await requested;
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(TITLE_TIMEOUT_MS);
      expect(await title).toBeUndefined();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
      await rig.server.close();
    }
  });

  it("clears its timer and its listener on the caller's signal once the title is there", async () => {
    const rig = await startRig('openai', 'openai', () => ({ text: 'Quick title' }));
    const caller = new AbortController();
    const remove = vi.spyOn(caller.signal, 'removeEventListener');
    try {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      expect(await generateTitle(rig.registry, rig.model, 'hello', caller.signal)).toBe('Quick title');
      // The model client's pool keeps the kept-alive socket on a timer of its own: not the title's.
      closeIdleConnections();
      expect(vi.getTimerCount()).toBe(0);
      expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
    } finally {
      vi.useRealTimers();
      await rig.server.close();
    }
  });
});
