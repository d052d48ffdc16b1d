import { createRequire } from 'node:module';
import type { DurableBackend, DurableBackendOptions } from '../durable/backend';
import { hasMethods } from './guards';

type StartDurableBackend = (options: DurableBackendOptions) => Promise<DurableBackend>;

function hasStart(module: unknown): module is { startDurableBackend: StartDurableBackend } {
  return hasMethods(module, ['startDurableBackend']);
}

/**
 * Loads the durable backend (../durable) only for apps that use Durable Functions, so an app without them never pays
 * for (or depends on) the durable backend.
 */
export async function startDurable(options: DurableBackendOptions): Promise<DurableBackend> {
  const module: unknown = createRequire(__filename)('../durable/backend');
  if (!hasStart(module)) throw new Error('durable/backend does not export startDurableBackend().');
  return module.startDurableBackend(options);
}
