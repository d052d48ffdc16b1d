import { z } from 'zod';

/**
 * The one error taxonomy of the app. What a failure of handling a message gets:
 * - permanent: retrying cannot help (a record that cannot be read or stored, data that fails its
 *   schema): recorded with its reason and completed — never held, never spun to the dead-letter queue;
 * - transient: the weather (storage or broker down, throttled, an ETag conflict, a network error):
 *   the message is held and retried, then abandoned so Service Bus redelivers it first in its session;
 * - bug: a programming error in this app (TypeError, RangeError, ReferenceError, SyntaxError, ...):
 *   logged as an error with its stack and abandoned at once, never held as if storage were down. The
 *   broker's own redeliveries then take it to the dead-letter queue after maxDeliveryCount, where its
 *   order shows it and a replay applies it once the fix is deployed.
 */
export type ErrorKind = 'permanent' | 'transient' | 'bug';

/** A failure that retrying cannot mend: its subclasses say which (see adapters/ports.ts). */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

const programmingErrors = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError];

/** Codes Node, undici and the Azure SDKs put on network failures (also on an error's `cause`). */
const networkCode = /^(E[A-Z_]+|UND_ERR_[A-Z_]+|REQUEST_SEND_ERROR)$/;

function codeOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null && 'code' in value ? value.code : undefined;
}

/**
 * Whether a built-in error type is the network in disguise: fetch (undici) rejects with
 * `TypeError: fetch failed` whose cause carries ECONNREFUSED, ETIMEDOUT, UND_ERR_SOCKET, ...
 */
function isNetworkFailure(error: Error): boolean {
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 5; depth++) {
    const code = codeOf(current);
    if (typeof code === 'string' && networkCode.test(code)) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

/**
 * The one classifier. Permanent is what the app marks so (PermanentError) and schema failures (zod).
 * A bug is a JavaScript programming error not caused by the network. Everything else is transient:
 * Azure SDK errors (RestError, ServiceBusError, whatever their status or code: a throttle, an outage,
 * a missing table or role is an operator's weather, not this code's), network errors, aborts and
 * timeouts, ETag conflicts, and any plain Error an SDK throws.
 */
export function classifyError(error: unknown): ErrorKind {
  if (error instanceof PermanentError || error instanceof z.core.$ZodError) return 'permanent';
  if (error instanceof Error && programmingErrors.some((type) => error instanceof type) && !isNetworkFailure(error)) {
    return 'bug';
  }
  return 'transient';
}

/**
 * The one way an error becomes text for logs, answers and records: its message, after its type when
 * the type says something ("TypeError: ...", "RestError: ...", not "Error: ...").
 */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
  if (typeof error === 'string') return error;
  try {
    // undefined and functions have no JSON form.
    const json = JSON.stringify(error) as string | undefined;
    return json ?? String(error);
  } catch {
    return String(error);
  }
}

/** errorText plus, for a bug, the stack: where in this app it happened. */
export function errorReport(error: unknown): string {
  if (classifyError(error) !== 'bug' || !(error instanceof Error) || error.stack === undefined) return errorText(error);
  return error.stack.startsWith(errorText(error)) ? error.stack : `${errorText(error)}\n${error.stack}`;
}

/** What a log line says a call that gave up did with its message, by the error's kind. */
const outcomeOfFailure: Record<ErrorKind, string> = { transient: 'retry', bug: 'bug', permanent: 'failed' };

/**
 * The log line of a message whose handling failed: `outcome=retry` (transient), `outcome=bug` (with
 * the stack) or `outcome=failed` (permanent but not recordable), then where and why.
 */
export function failureLine(error: unknown, where: string): string {
  return `outcome=${outcomeOfFailure[classifyError(error)]} ${where}: ${errorReport(error)}`;
}
