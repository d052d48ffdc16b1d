import {
  conditions,
  isRecord,
  optionalString,
  parseMessage,
  stringToUuid,
  toLongNumber,
  typed,
  uuidToString,
} from './codec';
import type { MessageEntity, SettleOutcome } from './entities';
import type { Namespace } from './namespace';

/** A `$management` reply: status, optional error condition, optional body (already AMQP-typed). */
export interface ManagementReply {
  statusCode: number;
  description: string;
  errorCondition?: string;
  body?: Record<string, unknown>;
}

const ok = (body?: Record<string, unknown>): ManagementReply =>
  body === undefined ? { statusCode: 200, description: 'OK' } : { statusCode: 200, description: 'OK', body };

function failure(statusCode: number, errorCondition: string, description: string): ManagementReply {
  return { statusCode, errorCondition, description };
}

function longList(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const numbers: number[] = [];
  for (const item of value) {
    const n = toLongNumber(item);
    if (n === undefined) return undefined;
    numbers.push(n);
  }
  return numbers;
}

function tokenList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const tokens: string[] = [];
  for (const item of value) {
    if (!Buffer.isBuffer(item) || item.length !== 16) return undefined;
    tokens.push(uuidToString(item));
  }
  return tokens;
}

function intValue(value: unknown, fallback: number): number {
  const n = toLongNumber(value);
  return n === undefined ? fallback : n;
}

function sessionNotLocked(entity: MessageEntity, sessionId: string): ManagementReply {
  return failure(
    410,
    conditions.sessionLockLost,
    `The session lock has expired on the session with id ${sessionId} of '${entity.path}', or the session is not locked by this client.`,
  );
}

type Body = Record<string, unknown>;

/** Operations on the namespace by the link's address (a topic takes scheduled messages too). */
const addressOperations: Record<
  string,
  ((namespace: Namespace, address: string, request: Body) => ManagementReply) | undefined
> = {
  'com.microsoft:schedule-message': scheduleMessages,
  'com.microsoft:cancel-scheduled-message': cancelScheduled,
};

/** Operations on the receivable entity (queue, subscription, dead-letter queue) at the link's address. */
const entityOperations: Record<string, ((entity: MessageEntity, request: Body) => ManagementReply) | undefined> = {
  'com.microsoft:renew-lock': renewLocks,
  'com.microsoft:renew-session-lock': renewSessionLock,
  'com.microsoft:get-session-state': getSessionState,
  'com.microsoft:set-session-state': setSessionState,
  'com.microsoft:peek-message': peekMessages,
  'com.microsoft:receive-by-sequence-number': receiveDeferred,
  'com.microsoft:update-disposition': updateDisposition,
  'com.microsoft:get-message-sessions': getMessageSessions,
};

/** Executes one `$management` operation against the entity the request link is attached to. */
export function handleManagement(
  namespace: Namespace,
  address: string,
  operation: string,
  body: unknown,
): ManagementReply {
  const request = isRecord(body) ? body : {};
  const onAddress = addressOperations[operation];
  if (onAddress !== undefined) return onAddress(namespace, address, request);
  const entity = namespace.receivableFor(address);
  if (entity === undefined) {
    return failure(404, conditions.notFound, `The messaging entity '${address}' could not be found.`);
  }
  const onEntity = entityOperations[operation];
  if (onEntity === undefined)
    return failure(501, conditions.notAllowed, `The operation '${operation}' is not supported by the emulator.`);
  return onEntity(entity, request);
}

function cancelScheduled(namespace: Namespace, address: string, request: Body): ManagementReply {
  const seqs = longList(request['sequence-numbers']);
  if (seqs === undefined) return failure(400, conditions.argumentError, 'sequence-numbers must be an array of longs.');
  for (const seq of seqs) namespace.cancelScheduled(address, seq);
  return ok();
}

function renewLocks(entity: MessageEntity, request: Body): ManagementReply {
  const tokens = tokenList(request['lock-tokens']);
  if (tokens === undefined) return failure(400, conditions.argumentError, 'lock-tokens must be an array of uuids.');
  const expirations: number[] = [];
  for (const token of tokens) {
    const until = entity.renewLock(token);
    if (until === undefined) {
      return failure(
        410,
        conditions.messageLockLost,
        `The lock supplied is invalid. Either the lock expired, or the message has already been removed from '${entity.path}'.`,
      );
    }
    expirations.push(until);
  }
  return ok({ expirations: typed.timestampArray(expirations) });
}

function renewSessionLock(entity: MessageEntity, request: Body): ManagementReply {
  const sessionId = optionalString(request['session-id']);
  if (sessionId === undefined) return failure(400, conditions.argumentError, 'session-id is required.');
  const until = entity.renewSessionLock(sessionId);
  if (until === undefined) return sessionNotLocked(entity, sessionId);
  return ok({ expiration: typed.timestamp(until) });
}

function getSessionState(entity: MessageEntity, request: Body): ManagementReply {
  const sessionId = optionalString(request['session-id']);
  if (sessionId === undefined) return failure(400, conditions.argumentError, 'session-id is required.');
  const session = entity.sessions.get(sessionId);
  if (session?.owner === undefined) return sessionNotLocked(entity, sessionId);
  return ok({ 'session-state': session.state === undefined ? null : typed.binary(session.state) });
}

function setSessionState(entity: MessageEntity, request: Body): ManagementReply {
  const sessionId = optionalString(request['session-id']);
  if (sessionId === undefined) return failure(400, conditions.argumentError, 'session-id is required.');
  if (entity.sessions.get(sessionId)?.owner === undefined) return sessionNotLocked(entity, sessionId);
  const state = request['session-state'];
  entity.setSessionState(sessionId, Buffer.isBuffer(state) ? Buffer.from(state) : undefined);
  return ok();
}

function peekMessages(entity: MessageEntity, request: Body): ManagementReply {
  const from = toLongNumber(request['from-sequence-number']) ?? 1;
  const count = intValue(request['message-count'], 1);
  const found = entity.peek(from, count, optionalString(request['session-id']));
  if (found.length === 0) return { statusCode: 204, description: 'No messages' };
  return ok({ messages: found.map((m) => typed.map({ message: typed.binary(entity.encode(m)) })) });
}

function getMessageSessions(entity: MessageEntity, request: Body): ManagementReply {
  const skip = intValue(request.skip, 0);
  const top = intValue(request.top, 100);
  const ids = entity.listSessions(skip, top);
  if (ids.length === 0) return { statusCode: 204, description: 'No sessions' };
  return ok({ skip: typed.int(skip + ids.length), 'sessions-ids': typed.stringArray(ids) });
}

function scheduleMessages(namespace: Namespace, address: string, request: Body): ManagementReply {
  const entries = request.messages;
  if (!Array.isArray(entries)) return failure(400, conditions.argumentError, 'messages must be a list of maps.');
  const seqs: number[] = [];
  for (const entry of entries) {
    const bytes = isRecord(entry) ? entry.message : undefined;
    if (!Buffer.isBuffer(bytes))
      return failure(400, conditions.argumentError, 'Each scheduled entry needs a binary message.');
    const result = namespace.schedule(address, parseMessage(Buffer.from(bytes)));
    if (!result.ok)
      return failure(
        result.error.condition === conditions.notFound ? 404 : 400,
        result.error.condition,
        result.error.description,
      );
    seqs.push(result.seq);
  }
  return ok({ 'sequence-numbers': typed.longArray(seqs) });
}

function receiveDeferred(entity: MessageEntity, request: Record<string, unknown>): ManagementReply {
  const seqs = longList(request['sequence-numbers']);
  if (seqs === undefined) return failure(400, conditions.argumentError, 'sequence-numbers must be an array of longs.');
  const receiveAndDelete = intValue(request['receiver-settle-mode'], 1) === 0;
  const sessionId = optionalString(request['session-id']);
  const messages: unknown[] = [];
  for (const seq of seqs) {
    const message = entity.messages.get(seq);
    if (
      message?.state !== 'deferred' ||
      message.lock !== undefined ||
      (sessionId !== undefined && message.parsed.sessionId !== sessionId)
    ) {
      return failure(
        404,
        conditions.messageNotFound,
        `Failed to retrieve the deferred message with sequence number ${seq} from '${entity.path}'.`,
      );
    }
  }
  for (const seq of seqs) {
    const message = entity.messages.get(seq);
    if (message === undefined) continue;
    if (receiveAndDelete) {
      const bytes = entity.encode(message);
      entity.removeDeferred(message);
      messages.push(
        typed.map({
          message: typed.binary(bytes),
          'lock-token': typed.uuid(stringToUuid('00000000-0000-0000-0000-000000000000')),
        }),
      );
      continue;
    }
    const session = message.parsed.sessionId === undefined ? undefined : entity.sessions.get(message.parsed.sessionId);
    const token = entity.lock(message, session?.owner === undefined ? undefined : session);
    messages.push(
      typed.map({ message: typed.binary(entity.encode(message)), 'lock-token': typed.uuid(stringToUuid(token)) }),
    );
  }
  return ok({ messages: typed.list(messages) });
}

function updateDisposition(entity: MessageEntity, request: Record<string, unknown>): ManagementReply {
  const tokens = tokenList(request['lock-tokens']);
  if (tokens === undefined) return failure(400, conditions.argumentError, 'lock-tokens must be an array of uuids.');
  const status = optionalString(request['disposition-status']);
  const properties = isRecord(request['properties-to-modify']) ? request['properties-to-modify'] : undefined;
  let outcome: SettleOutcome;
  switch (status) {
    case 'completed':
      outcome = { kind: 'complete' };
      break;
    case 'abandoned':
      outcome = properties === undefined ? { kind: 'abandon' } : { kind: 'abandon', properties };
      break;
    case 'defered':
      outcome = properties === undefined ? { kind: 'defer' } : { kind: 'defer', properties };
      break;
    case 'suspended':
      outcome = {
        kind: 'deadLetter',
        reason: optionalString(request['deadletter-reason']),
        description: optionalString(request['deadletter-description']),
        ...(properties === undefined ? {} : { properties }),
      };
      break;
    default:
      return failure(400, conditions.argumentError, `Unknown disposition-status '${status ?? ''}'.`);
  }
  for (const token of tokens) {
    const result = entity.settle(token, outcome);
    if (!result.ok) {
      const status = result.error.condition === conditions.notAllowed ? 400 : 410;
      return failure(status, result.error.condition, result.error.description);
    }
  }
  return ok();
}
