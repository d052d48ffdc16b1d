import { ServiceBusAdministrationClient } from '@azure/service-bus';
import type { ServiceBusConnectionConfig } from '../config';
import { azureCredential } from './azureCredential';
import type { BacklogCounts, QueueBacklog } from './consolePorts';

/**
 * The queue's backlog from its runtime properties (ServiceBusAdministrationClient, one HTTP call).
 * In Azure this needs the Manage claim on the queue (infra: grantQueueManageForScaling); without it
 * the call fails with 401 and the console shows the backlog as unavailable, with that reason.
 */

/**
 * A connection string with UseDevelopmentEmulator=true names the local emulator, which serves the
 * management API over plain HTTP on its AMQP port (docs/emulator.md). The .NET client switches to
 * HTTP for such strings; the JS client (7.9) always says https, so the request is sent as http here.
 */
function isEmulator(connectionString: string): boolean {
  return /(^|;)\s*UseDevelopmentEmulator\s*=\s*true\s*(;|$)/i.test(connectionString);
}

export function administrationClientFor(connection: ServiceBusConnectionConfig): ServiceBusAdministrationClient {
  if (connection.kind === 'identity') {
    return new ServiceBusAdministrationClient(connection.fullyQualifiedNamespace, azureCredential(connection.clientId));
  }
  const client = new ServiceBusAdministrationClient(connection.connectionString);
  if (isEmulator(connection.connectionString)) {
    client.pipeline.addPolicy({
      name: 'convoyEmulatorPlainHttp',
      sendRequest: (request, next) => {
        request.url = request.url.replace(/^https:/i, 'http:');
        request.allowInsecureConnection = true;
        return next(request);
      },
    });
  }
  return client;
}

export class ServiceBusQueueBacklog implements QueueBacklog {
  constructor(
    private readonly client: () => ServiceBusAdministrationClient,
    private readonly queueName: string,
  ) {}

  async read(): Promise<BacklogCounts> {
    const properties = await this.client().getQueueRuntimeProperties(this.queueName);
    return {
      active: properties.activeMessageCount,
      scheduled: properties.scheduledMessageCount,
      deadLettered: properties.deadLetterMessageCount,
    };
  }
}
