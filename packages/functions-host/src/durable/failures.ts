import type { RetryPolicy } from './actions';
import type { FailureDetails } from './history';

/** How errors thrown by the app become DTFx failure details, and how long a retry waits. */

export function errorText(error: unknown): { message: string; stack: string | undefined; name: string } {
  if (error instanceof Error) return { message: error.message, stack: error.stack, name: error.name };
  return { message: String(error), stack: undefined, name: 'Error' };
}

/**
 * With an exception-properties provider registered, the library puts a JSON failure payload in the
 * error message for the extension to unpack; otherwise the details come from the error itself.
 */
export function failureDetailsOf(error: unknown): FailureDetails {
  const { message, stack, name } = errorText(error);
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed === 'object' && parsed !== null && 'errorType' in parsed && 'errorMessage' in parsed) {
      const properties = 'properties' in parsed && typeof parsed.properties === 'object' ? parsed.properties : null;
      return {
        ErrorType: String(parsed.errorType),
        ErrorMessage: String(parsed.errorMessage),
        StackTrace: 'stackTrace' in parsed && typeof parsed.stackTrace === 'string' ? parsed.stackTrace : stack,
        IsNonRetriable: false,
        ...(properties !== null ? { Properties: { ...properties } } : {}),
      };
    }
  } catch {
    // Not a payload: a plain error message.
  }
  return { ErrorType: name, ErrorMessage: message, StackTrace: stack, IsNonRetriable: false };
}

export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  const delay = policy.firstRetryIntervalInMilliseconds * Math.pow(policy.backoffCoefficient ?? 1, attempt - 1);
  return Math.min(delay, policy.maxRetryIntervalInMilliseconds ?? Number.POSITIVE_INFINITY);
}
