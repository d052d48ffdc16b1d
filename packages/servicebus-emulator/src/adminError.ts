/** A management API request the emulator refuses: the HTTP status and the message the client shows. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
