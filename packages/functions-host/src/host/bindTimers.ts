import type { RegisteredFunction } from './coreApi';
import type { Invocations } from './invocations';
import type { Pump } from './pump';
import { parseNcrontab, TimerPump } from './timers';
import { stringProp, type TriggerBinding } from './triggers';

/** A pump (not started) that calls a timerTrigger function on its NCRONTAB schedule, in UTC. */
export function bindTimer(
  fn: RegisteredFunction,
  trigger: TriggerBinding,
  run: Invocations['run'],
  log: (line: string) => void,
): Pump {
  const schedule = stringProp(trigger.binding, 'schedule') ?? '';
  const pump = new TimerPump(parseNcrontab(schedule), async (json) => {
    await run(fn, { inputData: [{ name: trigger.name, data: { json } }], triggerMetadata: {} });
  });
  log(`${fn.info.name}: timer ${schedule} (UTC)`);
  return pump;
}
