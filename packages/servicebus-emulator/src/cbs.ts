import { createHmac, timingSafeEqual } from 'node:crypto';
import { Namespace } from './namespace';

/**
 * Claims-based security: clients put a SAS token on `$cbs` for each entity before attaching to it.
 * Tokens are checked against the configured key exactly as Service Bus does, so a client with the
 * wrong key fails here the way it would in Azure.
 */

export interface SharedAccessKey {
  name: string;
  value: string;
}

export type TokenCheck = { ok: true; audience: string; expiresAt: number } | { ok: false; description: string };

function field(fields: Map<string, string>, name: string): string | undefined {
  return fields.get(name);
}

export function createSasToken(audience: string, key: SharedAccessKey, expiresAtSeconds: number): string {
  const resource = encodeURIComponent(audience);
  const signature = createHmac('sha256', key.value).update(`${resource}\n${expiresAtSeconds}`).digest('base64');
  return `SharedAccessSignature sr=${resource}&sig=${encodeURIComponent(signature)}&se=${expiresAtSeconds}&skn=${encodeURIComponent(key.name)}`;
}

export function verifySasToken(token: unknown, name: unknown, key: SharedAccessKey, nowMs: number): TokenCheck {
  if (typeof token !== 'string')
    return { ok: false, description: 'The put-token body must be a SharedAccessSignature string.' };
  const prefix = 'SharedAccessSignature ';
  if (!token.startsWith(prefix)) {
    return {
      ok: false,
      description: 'Only SharedAccessSignature tokens are supported by the emulator (no Entra ID / JWT).',
    };
  }
  const fields = new Map<string, string>();
  for (const part of token.slice(prefix.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const resource = field(fields, 'sr');
  const signature = field(fields, 'sig');
  const expiry = field(fields, 'se');
  const keyName = field(fields, 'skn');
  if (resource === undefined || signature === undefined || expiry === undefined || keyName === undefined) {
    return { ok: false, description: 'Malformed SharedAccessSignature: sr, sig, se and skn are required.' };
  }
  if (decodeURIComponent(keyName) !== key.name) {
    return {
      ok: false,
      description: `InvalidSignature: the key name '${decodeURIComponent(keyName)}' is not configured (expected '${key.name}').`,
    };
  }
  const expected = createHmac('sha256', key.value).update(`${resource}\n${expiry}`).digest();
  let given: Buffer;
  try {
    given = Buffer.from(decodeURIComponent(signature), 'base64');
  } catch {
    return { ok: false, description: 'InvalidSignature: the signature is not URL-encoded base64.' };
  }
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, description: `InvalidSignature: the token signature does not match key '${key.name}'.` };
  }
  const expiresAt = Number(expiry) * 1000;
  if (!Number.isFinite(expiresAt) || expiresAt <= nowMs) {
    return { ok: false, description: `ExpiredToken: the token expired at ${new Date(expiresAt).toISOString()}.` };
  }
  const audience = decodeURIComponent(resource);
  if (
    typeof name === 'string' &&
    Namespace.normalize(name) !== Namespace.normalize(audience) &&
    !isPrefixOf(audience, name)
  ) {
    return { ok: false, description: `The token audience '${audience}' does not cover '${name}'.` };
  }
  return { ok: true, audience: typeof name === 'string' ? name : audience, expiresAt };
}

function isPrefixOf(audience: string, name: string): boolean {
  const a = Namespace.normalize(audience);
  const n = Namespace.normalize(name);
  return a === '' || n.startsWith(`${a}/`);
}

/** Per connection: which entity paths a valid token was put for, and until when. */
export class CbsGrants {
  private readonly grants = new Map<string, number>();

  grant(audience: string, expiresAt: number): void {
    this.grants.set(Namespace.normalize(audience), expiresAt);
  }

  /** A token for an entity also covers its sub-paths (`/$management`, `/$DeadLetterQueue`, subscriptions). */
  allows(address: string, nowMs: number): boolean {
    const path = Namespace.normalize(address);
    for (const [granted, expiresAt] of this.grants) {
      if (expiresAt <= nowMs) continue;
      if (granted === '' || path === granted || path.startsWith(`${granted}/`)) return true;
    }
    return false;
  }
}
