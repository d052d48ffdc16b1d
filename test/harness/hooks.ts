import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Fault } from './hostProtocol';

/**
 * preInvocation hooks registered on the local host (LocalHost.registerHook), so failures and
 * handler cost are injected around the real app without touching src/: the same hook point the
 * Node worker offers to any app (app.hook.preInvocation).
 */

type HookContext = Record<string, unknown>;

const invocationSchema = z.object({
  functionName: z.string(),
  triggerMetadata: z
    .object({
      messageId: z.string().optional().catch(undefined),
      deliveryCount: z.coerce.number().optional().catch(undefined),
    })
    .optional(),
});

function invocationOf(context: HookContext): z.infer<typeof invocationSchema> | undefined {
  const parsed = invocationSchema.safeParse(context.invocationContext);
  return parsed.success ? parsed.data : undefined;
}

/** Simulated handler cost: awaits `ms` before the function runs (inside the invocation's interval). */
export function costHook(functionName: string, ms: number): (context: HookContext) => Promise<void> {
  return async (context) => {
    if (invocationOf(context)?.functionName === functionName) await sleep(ms);
  };
}

export class InjectedFault extends Error {
  constructor(messageId: string, when: Fault['when']) {
    super(`injected fault (${when} the handler) on message ${messageId}`);
    this.name = 'InjectedFault';
  }
}

/** Makes the handler throw once, on the first delivery of each listed message. */
export function faultHook(faults: readonly Fault[]): (context: HookContext) => void {
  const pending = new Map(faults.map((fault) => [fault.messageId, fault]));
  return (context) => {
    const metadata = invocationOf(context)?.triggerMetadata;
    const messageId = metadata?.messageId;
    if (messageId === undefined || metadata?.deliveryCount !== 1) return;
    const fault = pending.get(messageId);
    if (fault === undefined) return;
    pending.delete(messageId);
    const original = context.functionCallback;
    if (typeof original !== 'function') throw new Error('preInvocation context has no functionCallback.');
    context.functionCallback = async (...args: unknown[]): Promise<never> => {
      if (fault.when === 'after') await Promise.resolve(Reflect.apply(original, undefined, args));
      throw new InjectedFault(messageId, fault.when);
    };
  };
}
