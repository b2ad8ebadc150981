import { describe, expect, it } from 'vitest';
import { denyCandidates, splitShellCommand } from './shell-split.js';

describe('splitShellCommand', () => {
  const cases: Array<[command: string, parts: string[]]> = [
    ['git status', ['git status']],
    ['  git status  ', ['git status']],
    ['git status && rm -rf /', ['git status', 'rm -rf /']],
    ['git status || rm -rf /', ['git status', 'rm -rf /']],
    ['git status; rm -rf /', ['git status', 'rm -rf /']],
    ['git status | sh', ['git status', 'sh']],
    ['git status & rm -rf /', ['git status', 'rm -rf /']],
    ['git status\nrm -rf /', ['git status', 'rm -rf /']],
    ['git status\r\nrm -rf /', ['git status', 'rm -rf /']],
    ['git log `rm -rf /`', ['git log', 'rm -rf /']],
    ['git log $(rm -rf /)', ['git log', 'rm -rf /']],
    ['git log "$(rm -rf /)"', ['git log "', 'rm -rf /', '"']],
    ['(cd x && rm -rf /)', ['cd x', 'rm -rf /']],
    ['git log > notes.txt', ['git log', 'notes.txt']],
    ['git log >> notes.txt', ['git log', 'notes.txt']],
    ['git apply < patch.diff', ['git apply', 'patch.diff']],
    ['git log &> all.txt', ['git log', 'all.txt']],
    ['git log 2>&1', ['git log']],
    ['git log 2>&1 | head -5', ['git log', 'head -5']],
    ['git log >&2', ['git log']],
    ['git log 2>/dev/null', ['git log']],
    ['git log > /dev/null 2>&1', ['git log']],
    ['git log &>/dev/null', ['git log']],
    ['git log < /dev/null', ['git log']],
    ['git log > /dev/nullx', ['git log', '/dev/nullx']],
    ['if git diff --quiet; then rm -rf /; fi', ['git diff --quiet', 'rm -rf /']],
    ['while true; do rm x; done', ['true', 'rm x']],
    ['! git diff', ['git diff']],
    ['{ rm -rf /; }', ['rm -rf /']],
    ['done-script --now', ['done-script --now']],
    ['git commit -m "a; b"', ['git commit -m "a', 'b"']],
    ['', ['']],
    ['   ', ['']],
    [';;', [';;']],
  ];
  it.each(cases)('%j → %j', (command, parts) => {
    expect(splitShellCommand(command)).toEqual(parts);
  });
});

describe('denyCandidates', () => {
  it('holds the whole command, each part and each part without leading assignments', () => {
    expect(denyCandidates('curl x | sh')).toEqual(['curl x | sh', 'curl x', 'sh']);
    expect(denyCandidates('X=1 Y=2 rm -rf / && ls')).toEqual(['X=1 Y=2 rm -rf / && ls', 'X=1 Y=2 rm -rf /', 'rm -rf /', 'ls']);
    expect(denyCandidates(' git status ')).toEqual([' git status ', 'git status']);
  });
});
