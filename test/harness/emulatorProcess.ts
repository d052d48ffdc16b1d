import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface EmulatorProcess {
  connectionString: string;
  pid: number;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * `npm run emulator` in its own process on a free port, so a benchmark can measure its own CPU or
 * the emulator's memory without the other mixed in. Resolves once the emulator says it is ready.
 */
export async function spawnEmulator(extraArgs: readonly string[] = []): Promise<EmulatorProcess> {
  const cli = join(__dirname, '..', '..', 'packages', 'servicebus-emulator', 'src', 'cli.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  // Line 1: the connection string; line 2: "... ready on host:port".
  const first = await lines.next();
  const ready = await lines.next();
  if (first.done === true || ready.done === true) throw new Error('The emulator process exited before it was ready.');
  return {
    connectionString: first.value,
    pid: child.pid ?? 0,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
