// Runs the test tiers with every core busy: one CPU hog per core (a child process spinning) beside
// scripts/run-tests.mjs, which gets the same arguments; the hogs stop when the tests end.
// `node scripts/test-stress.mjs [--hogs N] [unit|int|e2e|dotnet ...]`. A test must hold on a starved
// machine: locks that expire, calls that take seconds, timers that fire late.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const args = process.argv.slice(2);
let hogCount = availableParallelism();
if (args[0] === '--hogs') {
  hogCount = Number(args[1]);
  if (!Number.isInteger(hogCount) || hogCount < 0) {
    console.error(`--hogs takes a whole number of CPU hogs, not "${String(args[1])}".`);
    process.exit(2);
  }
  args.splice(0, 2);
}

// Spins; every ~10^7 turns it checks that the process that started it is still its parent, so a
// hog never outlives this script (a busy loop runs no timers, and a SIGKILL runs no cleanup here).
const spin = `const parent = Number(process.argv[1]);
for (let turns = 1; ; turns++) if (turns % 1e7 === 0 && process.ppid !== parent) process.exit(0);`;
const hogs = Array.from({ length: hogCount }, () =>
  spawn(process.execPath, ['-e', spin, String(process.pid)], { stdio: 'ignore' }),
);
const stopHogs = () => {
  for (const hog of hogs) hog.kill('SIGKILL');
};
console.log(`test:stress: ${String(hogCount)} CPU hog(s) running beside the tests`);

const tests = spawn(process.execPath, ['scripts/run-tests.mjs', ...args], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    tests.kill(signal);
  });
}
tests.on('close', (code, signal) => {
  stopHogs();
  console.log(`test:stress: hogs stopped; tests ended with ${signal ?? `exit code ${String(code)}`}`);
  process.exit(code ?? 1);
});
