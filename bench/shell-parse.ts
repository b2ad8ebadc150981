/**
 * Time per shell-line parse (permission checks and the runner shell policy), typical to hostile lines.
 * `npx tsx bench/shell-parse.ts`; P=<path of another checkout's src/protocol/shell-parse.ts> for an A/B.
 */
const mod = process.env.P ?? '../src/protocol/shell-parse.ts';
const { parseCommandLine } = await import(mod);
function t(label: string, s: string, n = 20): void {
  const run = () => { try { parseCommandLine(s); return 'ok'; } catch (e) { return (e as Error).name; } };
  run();
  let worst = 0; let r = '';
  const t0 = performance.now();
  for (let i = 0; i < n; i++) { const a = performance.now(); r = run(); worst = Math.max(worst, performance.now() - a); }
  console.log(label.padEnd(22), String(s.length).padStart(6), ((performance.now() - t0) / n).toFixed(3).padStart(9), 'ms avg', worst.toFixed(1).padStart(7), 'ms max', r);
}
t('simple', 'git status && rm -rf /tmp/x | grep foo > out.txt', 200);
t('typical', 'cd src && npx vitest run src/core/event-log 2>&1 | tail -50', 200);
t('400 words', 'echo ' + 'abc '.repeat(399), 5);
t('200 files + pipes', 'git add ' + Array.from({ length: 200 }, (_, i) => `src/f-${i}.ts`).join(' ') + ' && git commit -m x | tail', 5);
t('16k words', 'echo ' + 'abc '.repeat(16000), 2);
t('1000 pipes', 'a | '.repeat(1000) + 'b', 2);
t('400 cmds a;', 'a;'.repeat(400), 3);
t('64k junk', Array.from({length: 65000}, (_, i) => '$(`"\'{;|&<>x '[i % 14]).join(''), 3);
t('20k nested $(', '$('.repeat(10000), 3);
t('64k heredoc', 'cat <<EOF\n' + 'line\n'.repeat(12000) + 'EOF', 3);
t('64k quoted', "echo '" + 'x'.repeat(65000) + "'", 3);
t('40k brace', '{ '.repeat(20000), 3);
