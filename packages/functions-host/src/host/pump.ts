/** A receive loop the host starts after loading the app and stops (or drops) when it ends. */
export interface Pump {
  start(): void;
  /** Stops receiving and waits for in-flight calls to settle. */
  stop(): Promise<void>;
  /** Drops every receiver at once without waiting for in-flight calls. */
  abort(): Promise<void>;
  /** Resolves once every receive loop has ended (pending session accepts end within the accept window). */
  settled(): Promise<void>;
}
