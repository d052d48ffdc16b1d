/**
 * The durable client binding data (what `df.getClient(context)` parses, the library's
 * OrchestrationClientInputData). The library calls `rpcBaseUrl` for every operation; the
 * webhook-style URLs only end up in createCheckStatusResponse payloads, as with Core Tools.
 */
export interface DurableClientInputData {
  taskHubName: string;
  creationUrls: { createNewInstancePostUri: string; createAndWaitOnNewInstancePostUri: string };
  managementUrls: {
    id: string;
    statusQueryGetUri: string;
    sendEventPostUri: string;
    terminatePostUri: string;
    rewindPostUri: string;
    purgeHistoryDeleteUri: string;
    restartPostUri: string;
    suspendPostUri: string;
    resumePostUri: string;
  };
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
}

export const rpcBasePath = '/durabletask/';
export const webhookBasePath = '/runtime/webhooks/durabletask/';
export const instanceIdPlaceholder = 'INSTANCEID';

export function buildClientInput(origin: string, taskHubName: string): DurableClientInputData {
  const web = `${origin}${webhookBasePath.replace(/\/$/, '')}`;
  const query = `taskHub=${encodeURIComponent(taskHubName)}&connection=Storage`;
  const instance = `${web}/instances/${instanceIdPlaceholder}`;
  return {
    taskHubName,
    creationUrls: {
      createNewInstancePostUri: `${web}/orchestrators/{functionName}[/{instanceId}]?${query}`,
      createAndWaitOnNewInstancePostUri: `${web}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${query}`,
    },
    managementUrls: {
      id: instanceIdPlaceholder,
      statusQueryGetUri: `${instance}?${query}`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?${query}`,
      terminatePostUri: `${instance}/terminate?reason={text}&${query}`,
      rewindPostUri: `${instance}/rewind?reason={text}&${query}`,
      purgeHistoryDeleteUri: `${instance}?${query}`,
      restartPostUri: `${instance}/restart?${query}`,
      suspendPostUri: `${instance}/suspend?reason={text}&${query}`,
      resumePostUri: `${instance}/resume?reason={text}&${query}`,
    },
    baseUrl: web,
    requiredQueryStringParameters: query,
    rpcBaseUrl: `${origin}${rpcBasePath}`,
  };
}

/** The management links for one instance (HttpManagementPayload), as the start API returns them. */
export function managementPayload(data: DurableClientInputData, instanceId: string): Record<string, string> {
  const payload: Record<string, string> = {};
  for (const [key, value] of Object.entries(data.managementUrls)) {
    payload[key] = value.replaceAll(instanceIdPlaceholder, encodeURIComponent(instanceId));
  }
  return payload;
}
