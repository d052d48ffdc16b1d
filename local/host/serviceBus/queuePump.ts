import type { ServiceBusClient, ServiceBusReceiver } from '@azure/service-bus';
import type { ServiceBusOptions } from '../hostConfig';
import type { ServiceBusStats } from '../types';
import { describeError, type MessageDispatcher, type TriggerTarget } from './dispatch';
import { messageFacts, triggerInput, triggerMetadata } from './metadata';

export interface QueuePumpOptions {
  client: ServiceBusClient;
  target: TriggerTarget;
  options: ServiceBusOptions;
  dispatch: MessageDispatcher;
  stats: ServiceBusStats;
  log: (line: string) => void;
}

/**
 * The extension's message processor for non-session single dispatch: up to maxConcurrentCalls
 * messages at once, locks renewed up to maxAutoLockRenewalDuration, complete on success and
 * abandon on a thrown error when autoCompleteMessages is on.
 */
export class QueuePump {
  readonly #o: QueuePumpOptions;
  #receiver: ServiceBusReceiver | undefined;
  #subscription: { close(): Promise<void> } | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: QueuePumpOptions) {
    this.#o = options;
  }

  start(): void {
    const { client, target, options, stats, log, dispatch } = this.#o;
    const receiverOptions = {
      receiveMode: 'peekLock' as const,
      maxAutoLockRenewalDurationInMs: options.maxAutoLockRenewalDurationMs,
      skipParsingBodyAsJson: true,
      skipConvertingDate: true,
    };
    const receiver =
      target.queueName !== undefined
        ? client.createReceiver(target.queueName, receiverOptions)
        : client.createReceiver(target.topicName ?? '', target.subscriptionName ?? '', receiverOptions);
    this.#receiver = receiver;
    this.#subscription = receiver.subscribe(
      {
        processMessage: async (message) => {
          stats.messagesReceived++;
          const work = (async () => {
            let failed = false;
            try {
              await dispatch(
                target.functionName,
                triggerInput(message, target.dataType),
                triggerMetadata(message, target.functionName),
                messageFacts(message),
              );
            } catch {
              failed = true;
            }
            if (!target.autoComplete) return;
            try {
              if (failed) {
                await receiver.abandonMessage(message);
                stats.messagesAbandoned++;
              } else {
                await receiver.completeMessage(message);
                stats.messagesCompleted++;
              }
            } catch (error) {
              log(
                `${target.functionName}: could not ${failed ? 'abandon' : 'complete'} message ${String(message.sequenceNumber)}: ${describeError(error)}`,
              );
            }
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
