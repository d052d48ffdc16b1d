// The Function App on Flex Consumption (FC1). It runs as the user-assigned identity and every
// connection is identity-based: no setting below holds a key or a connection string with a secret.
// Flex Consumption takes the runtime from functionAppConfig: FUNCTIONS_WORKER_RUNTIME and
// FUNCTIONS_EXTENSION_VERSION must not be app settings here.

@description('Name of the Function App (globally unique host name).')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region for the plan and the app.')
param location string

@description('Tags applied to the plan and the app (the app also gets azd-service-name).')
param tags object

@description('Service name in azure.yaml that azd deploys to this app.')
param azdServiceName string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity, named in every identity-based connection.')
param identityClientId string

@description('Storage account name (host storage, Durable task hub, order store).')
param storageAccountName string

@description('Blob endpoint of the storage account, ending in a slash.')
param blobEndpoint string

@description('Queue endpoint of the storage account.')
param queueEndpoint string

@description('Table endpoint of the storage account.')
param tableEndpoint string

@description('Blob container holding the deployment package.')
param deploymentContainerName string

@description('Fully qualified Service Bus namespace, e.g. sb-x.servicebus.windows.net.')
param serviceBusFullyQualifiedNamespace string

@description('Name of the session-enabled order events queue.')
param orderEventsQueueName string

@description('Name of the orders table.')
param ordersTableName string

@description('Name of the quarantine table.')
param quarantineTableName string

@description('Stock each SKU starts with (DEFAULT_STOCK_PER_SKU).')
param defaultStockPerSku int

@description('Out-of-order events parked per order before the order is blocked (MAX_PARKED_EVENTS).')
param maxParkedEvents int

@description('Seconds one invocation holds a message through transient failures before abandoning it (TRANSIENT_HOLD_SECONDS); inside the 5 min session lock auto-renewal.')
@minValue(0)
@maxValue(270)
param transientHoldSeconds int = 240

@description('Whether POST /api/sessions publishes test baskets (TEST_PRODUCER_ENABLED).')
param testProducerEnabled bool = true

@description('Seconds without progress after which a basket that is not terminal counts as stuck (STUCK_THRESHOLD_SECONDS).')
@minValue(1)
@maxValue(604800)
param stuckThresholdSeconds int = 300

@description('NCRONTAB schedule of the stuckBasketWatchdog timer (STUCK_WATCHDOG_SCHEDULE).')
param stuckWatchdogSchedule string = '0 */1 * * * *'

@description('Application Insights component the app sends telemetry to (local auth disabled: Entra only).')
param applicationInsightsName string

@description('Node.js version Flex Consumption runs.')
param nodeVersion string

@description('Most instances Flex Consumption scales out to.')
param maximumInstanceCount int

@description('Memory per instance in MB (Flex Consumption sizes: 512, 2048, 4096).')
param instanceMemoryMB int

// Read here rather than passed as a module output: the connection string carries the instrumentation
// key, and no deployment output should (it grants nothing with local auth off, but outputs are logged).
resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': azdServiceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [
        // Host storage (keys, leases, Durable's task hub): blob + queue + table, by identity.
        { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
        { name: 'AzureWebJobsStorage__blobServiceUri', value: blobEndpoint }
        { name: 'AzureWebJobsStorage__queueServiceUri', value: queueEndpoint }
        { name: 'AzureWebJobsStorage__tableServiceUri', value: tableEndpoint }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
        // Service Bus trigger and the app's own sender (src/config.ts reads the same names).
        { name: 'ServiceBusConnection__fullyQualifiedNamespace', value: serviceBusFullyQualifiedNamespace }
        { name: 'ServiceBusConnection__credential', value: 'managedidentity' }
        { name: 'ServiceBusConnection__clientId', value: identityClientId }
        // Order store (Table Storage).
        { name: 'OrderStoreConnection__tableServiceUri', value: tableEndpoint }
        { name: 'OrderStoreConnection__credential', value: 'managedidentity' }
        { name: 'OrderStoreConnection__clientId', value: identityClientId }
        // Plain settings src/config.ts validates at start.
        { name: 'ORDER_EVENTS_QUEUE', value: orderEventsQueueName }
        { name: 'ORDERS_TABLE', value: ordersTableName }
        { name: 'QUARANTINE_TABLE', value: quarantineTableName }
        { name: 'DEFAULT_STOCK_PER_SKU', value: string(defaultStockPerSku) }
        { name: 'MAX_PARKED_EVENTS', value: string(maxParkedEvents) }
        { name: 'TRANSIENT_HOLD_SECONDS', value: string(transientHoldSeconds) }
        { name: 'INFLIGHT_TABLE', value: 'inflight' }
        { name: 'CONSOLE_METRICS_TABLE', value: 'consolemetrics' }
        { name: 'STUCK_THRESHOLD_SECONDS', value: string(stuckThresholdSeconds) }
        { name: 'STUCK_WATCHDOG_SCHEDULE', value: stuckWatchdogSchedule }
        { name: 'TEST_PRODUCER_ENABLED', value: testProducerEnabled ? 'true' : 'false' }
        // Telemetry with Entra auth through the same identity.
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
output planName string = plan.name
