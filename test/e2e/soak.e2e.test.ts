import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failures, table } from '../harness/soak/report';
import { runSoak } from '../harness/soak/run';

/**
 * The fault soak (npm run soak) in small: the same code with 250 baskets and every fault kind once (the emulator restart on its data directory),
 * on a 10 s lock so the SIGSTOP can outlast it quickly. The assertions are the soak's own zeros.
 */

describe('fault soak, short', { timeout: 180_000 }, () => {
  it('250 baskets under a host kill, a SIGSTOP past the lock, a storage outage, an emulator restart, handler exceptions, duplicates and poison: nothing lost, twice, out of order or stuck', async (t) => {
    const lines: string[] = [];
    const result = await runSoak({
      baskets: 250,
      seed: 7,
      hostKills: 1,
      hostStops: 1,
      storageOutages: 1,
      emulatorRestarts: 1,
      emulatorDownMs: 2_000,
      outageMs: 8_000,
      lockDurationMs: 10_000,
      handlerExceptions: 4,
      duplicates: 8,
      poison: 3,
      faultGapMs: 10_000,
      quietMs: 15_000,
      timeoutMs: 150_000,
      verbose: false,
      log: (line) => lines.push(line),
    });
    t.diagnostic(`\n${table(result)}\n${result.faultLog.join('\n')}`);
    assert.deepEqual(failures(result), [], `${lines.join('\n')}\n${result.problems.join('\n')}`);
    // Every fault kind the schedule has happened at least once.
    for (const kind of [
      'hostKill',
      'hostStop',
      'storageOutage',
      'emulatorRestart',
      'handlerException',
      'duplicatePublish',
      'poison',
    ] as const)
      assert.ok(result.faults[kind].injected >= 1, `no ${kind} was injected`);
    assert.equal(result.applied, result.messages - result.faults.duplicatePublish.injected - 3);
    assert.equal(result.rejected + result.quarantined, 3, 'each poison message rejected or quarantined');
    assert.equal(result.duplicates, result.faults.duplicatePublish.injected);
  });
});
