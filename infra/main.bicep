// convoy on Azure: everything `func azure functionapp publish` needs, with identity-only connections
// and data-plane roles scoped to the resource they are for. Deploy with `azd up`, or
// `az deployment sub create` (see docs/deploy.md).
targetScope = 'subscription'

@description('Name of the environment (azd: AZURE_ENV_NAME). Names the resource group and seeds every resource name.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Azure region for every resource (azd: AZURE_LOCATION). Flex Consumption is offered in a subset of regions.')
param location string

@description('Object id of the deploying user or service principal (azd: AZURE_PRINCIPAL_ID). When set, it gets the same data roles as the app so it can run the app locally against Azure and send test events; leave empty to grant nothing.')
param principalId string = ''

@description('Kind of principal principalId names.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

@description('Resource group to create; empty derives rg-<environmentName>.')
param resourceGroupName string = ''

@description('Service Bus tier. Sessions need Standard or Premium.')
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string = 'Standard'

@description('Name of the session-enabled queue of order events.')
param orderEventsQueueName string = 'order-events'

@description('Message (and session) lock duration on the queue, ISO 8601, at most 5 minutes. The host renews it while a handler runs.')
param queueLockDuration string = 'PT1M'

@description('Deliveries before an event is dead-lettered.')
@minValue(1)
@maxValue(2000)
param queueMaxDeliveryCount int = 10

@description('Duplicate detection window on the queue (repeated MessageIds inside it are dropped), ISO 8601.')
param queueDuplicateDetectionWindow string = 'PT10M'

@description('Time to live of an event on the queue, ISO 8601; expired events are dead-lettered.')
param queueMessageTimeToLive string = 'P14D'

@description('Name of the orders table.')
param ordersTableName string = 'orders'

@description('Name of the quarantine table.')
param quarantineTableName string = 'quarantine'

@description('Stock each SKU starts with.')
@minValue(1)
@maxValue(1000000000)
param defaultStockPerSku int = 1000

@description('Out-of-order events parked per order before the order is blocked.')
@minValue(1)
@maxValue(500)
param maxParkedEvents int = 100

@description('Node.js version of the Flex Consumption runtime.')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '22'

@description('Most instances the app scales out to (Flex Consumption allows 40 to 1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Also grant the app Azure Service Bus Data Owner on the order events queue only, so the platform scaler can read the queue\'s message count (it needs the Manage claim). Off by default: Receiver + Sender are what the app itself uses.')
param grantQueueManageForScaling bool = false

@description('Whether POST /api/sessions publishes test baskets (app setting TEST_PRODUCER_ENABLED). Switch it off in production: it answers 403 then.')
param testProducerEnabled bool = true

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var deploymentContainerName = 'app-package'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    ordersTableName: ordersTableName
    quarantineTableName: quarantineTableName
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  scope: rg
  params: {
    name: 'sb-${resourceToken}'
    location: location
    tags: tags
    skuName: serviceBusSku
    queueName: orderEventsQueueName
    lockDuration: queueLockDuration
    maxDeliveryCount: queueMaxDeliveryCount
    duplicateDetectionWindow: queueDuplicateDetectionWindow
    messageTimeToLive: queueMessageTimeToLive
  }
}

module appRoles 'modules/rbac.bicep' = {
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    storageAccountName: storage.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.name
    queueName: serviceBus.outputs.queueName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    grantQueueManageForScaling: grantQueueManageForScaling
  }
}

module deployerRoles 'modules/rbac.bicep' = if (!empty(principalId)) {
  scope: rg
  params: {
    principalId: principalId
    principalType: principalType
    storageAccountName: storage.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.name
    queueName: serviceBus.outputs.queueName
  }
}

module functionApp 'modules/functionapp.bicep' = {
  scope: rg
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    azdServiceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    orderEventsQueueName: serviceBus.outputs.queueName
    ordersTableName: ordersTableName
    quarantineTableName: quarantineTableName
    defaultStockPerSku: defaultStockPerSku
    maxParkedEvents: maxParkedEvents
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    nodeVersion: nodeVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    testProducerEnabled: testProducerEnabled
  }
  // The host reads its storage and the queue the moment it starts: roles first.
  dependsOn: [
    appRoles
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_HOST string = functionApp.outputs.defaultHostName
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output ORDER_STORE_TABLE_SERVICE_URI string = storage.outputs.tableEndpoint
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.name
output SERVICE_BUS_FULLY_QUALIFIED_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output ORDER_EVENTS_QUEUE string = serviceBus.outputs.queueName
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
