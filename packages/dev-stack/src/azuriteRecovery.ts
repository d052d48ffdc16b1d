import { azuriteTableDbFile, startAzurite, type AzuriteExit, type AzuriteHandle, type AzuriteSave } from './azurite';
import type { CompletionLedger, GiveBack } from './standIns';

/**
 * Azurite for the local stack, kept alive. Azurite saves its tables (LokiJS) every 5 s, so a kill
 * loses the writes of its last seconds although it answered them, and the function that made them
 * has completed its message since. With its data on disk (`location`), a death is survived without
 * losing work: every completion newer than Azurite's last save goes back to the queue (the emulator's
 * CompletionLedger; the messages in flight go back once completed), Azurite restarts on the same
 * ports, and the events are applied again — the order's idempotency absorbs what the file did keep.
 * In memory, the data is gone: the death is reported and nothing is restarted.
 */
export type AzuriteEvent =
  | {
      kind: 'died';
      pid: number;
      exit: AzuriteExit;
      /** Azurite's last save of its tables before it died, if it reported one. */
      lastSave: AzuriteSave | undefined;
      gaveBack: GiveBack | undefined;
      restarting: boolean;
    }
  | { kind: 'back'; pid: number }
  | { kind: 'gaveUp'; reason: string };

/** Both processes read the same wall clock; this covers a small step of it between two readings. */
const clockMarginMs = 1_000;
const maxRestartsPerMinute = 3;

export interface AzuriteKeeperOptions {
  /** Azurite's data directory; absent = in memory (not restarted). */
  location: string | undefined;
  /** The emulator's ledger (started with retainCompletions), once the emulator is up. */
  ledger: () => CompletionLedger | undefined;
  onEvent: (event: AzuriteEvent) => void;
}

export class AzuriteKeeper {
  #azurite!: AzuriteHandle;
  #lastSave: AzuriteSave | undefined;
  #closing = false;
  #restarting: Promise<void> | undefined;
  readonly #restarts: number[] = [];

  private constructor(private readonly options: AzuriteKeeperOptions) {}

  static async start(options: AzuriteKeeperOptions): Promise<AzuriteKeeper> {
    const keeper = new AzuriteKeeper(options);
    await keeper.#launch();
    return keeper;
  }

  get azurite(): AzuriteHandle {
    return this.#azurite;
  }

  /** Stops Azurite (it saves on SIGTERM) and starts it again on the same ports and location. */
  async restart(): Promise<AzuriteHandle> {
    await this.#azurite.close();
    await this.#launch(this.#azurite);
    return this.#azurite;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#restarting;
    await this.#azurite.close();
  }

  async #launch(previous?: AzuriteHandle): Promise<void> {
    const { location, ledger } = this.options;
    this.#lastSave = undefined;
    const azurite = await startAzurite({
      ...(previous === undefined
        ? {}
        : { blobPort: previous.blobPort, queuePort: previous.queuePort, tablePort: previous.tablePort }),
      ...(location === undefined ? {} : { location }),
      onSave: (save) => {
        if (save.file !== azuriteTableDbFile) return;
        this.#lastSave = save;
        ledger()?.forgetUpTo(save.snapshotAt - clockMarginMs);
      },
    });
    this.#azurite = azurite;
    void azurite.exited.then((exit) => {
      if (!exit.expected && !this.#closing) this.#died(azurite, exit);
    });
  }

  #died(azurite: AzuriteHandle, exit: AzuriteExit): void {
    const lastSave = this.#lastSave;
    const died = { kind: 'died', pid: azurite.pid, exit, lastSave } as const;
    if (this.options.location === undefined) {
      this.options.onEvent({ ...died, gaveBack: undefined, restarting: false });
      return;
    }
    const gaveBack = this.options.ledger()?.giveBackSince((lastSave?.snapshotAt ?? 0) - clockMarginMs);
    const now = Date.now();
    while ((this.#restarts[0] ?? now) < now - 60_000) this.#restarts.shift();
    const restarting = this.#restarts.length < maxRestartsPerMinute;
    this.options.onEvent({ ...died, gaveBack, restarting });
    if (!restarting) {
      this.options.onEvent({
        kind: 'gaveUp',
        reason: `Azurite died ${String(maxRestartsPerMinute + 1)} times in a minute`,
      });
      return;
    }
    this.#restarts.push(now);
    this.#restarting = this.#launch(azurite).then(
      () => {
        this.options.onEvent({ kind: 'back', pid: this.#azurite.pid });
      },
      (error: unknown) => {
        this.options.onEvent({
          kind: 'gaveUp',
          reason: `Azurite could not be restarted (${error instanceof Error ? error.message : String(error)})`,
        });
      },
    );
  }
}
