import type { ServiceBusReceiver } from '@azure/service-bus';
import { describeError } from './dispatch';
import { dispatchAndSettle, receiverOptions, type PumpOptions } from './settle';

/**
 * The extension's message processor for non-session single dispatch: up to maxConcurrentCalls
 * messages at once, locks renewed up to maxAutoLockRenewalDuration, complete on success and
 * abandon on a thrown error when autoCompleteMessages is on.
 */
export class QueuePump {
  readonly #o: PumpOptions;
  #receiver: ServiceBusReceiver | undefined;
  #subscription: { close(): Promise<void> } | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: PumpOptions) {
    this.#o = options;
  }

  start(): void {
    const { client, target, options, stats, log } = this.#o;
    const receiver =
      target.queueName !== undefined
        ? client.createReceiver(target.queueName, receiverOptions(options))
        : client.createReceiver(target.topicName ?? '', target.subscriptionName ?? '', receiverOptions(options));
    this.#receiver = receiver;
    this.#subscription = receiver.subscribe(
      {
        processMessage: async (message) => {
          stats.messagesReceived++;
          const work = (async () => {
            const settlement = await dispatchAndSettle(receiver, message, this.#o);
            if (settlement === undefined || settlement.settled) return;
            log(
              `${target.functionName}: could not ${settlement.action} message ${String(message.sequenceNumber)}: ${describeError(settlement.error)}`,
            );
          })();
          this.#inFlight.add(work);
          try {
            await work;
          } finally {
            this.#inFlight.delete(work);
          }
        },
        processError: (args) => {
          log(
            `${target.functionName}: receive error on ${target.entity} (${args.errorSource}): ${describeError(args.error)}`,
          );
          return Promise.resolve();
        },
      },
      { autoCompleteMessages: false, maxConcurrentCalls: options.maxConcurrentCalls },
    );
  }

  /** Stops receiving, waits for in-flight calls to settle, closes the receiver. */
  async stop(): Promise<void> {
    await this.#subscription?.close().catch(() => undefined);
    await Promise.all([...this.#inFlight]);
    await this.#receiver?.close().catch(() => undefined);
  }

  /** A crash: the receiver is dropped at once, in-flight calls can no longer settle. */
  async abort(): Promise<void> {
    await this.#receiver?.close().catch(() => undefined);
  }

  settled(): Promise<void> {
    return Promise.resolve();
  }
}
