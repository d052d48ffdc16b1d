// Data-plane roles for one principal, each on the narrowest scope that works. Built-in role ids are
// written out literally so the compiled template can be checked (test/infra/invariants.int.test.ts).
// No control-plane role (Owner, Contributor, User Access Administrator) is ever granted.

@description('Object id of the principal that gets the roles.')
param principalId string

@description('Kind of principal: ServicePrincipal for the managed identity, User (or ServicePrincipal in CI) for the deployer.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param principalType string

@description('Storage account holding host storage, the Durable task hub, the deployment package and the order tables.')
param storageAccountName string

@description('Service Bus namespace holding the order events queue.')
param serviceBusNamespaceName string

@description('The order events queue: the only Service Bus scope any role is granted on.')
param queueName string

@description('Application Insights component the principal publishes telemetry to; empty grants no monitoring role.')
param applicationInsightsName string = ''

@description('Also grant Azure Service Bus Data Owner on the queue (never the namespace). The Service Bus scaler reads the queue\'s message count, which needs the Manage claim; without it scale decisions fall back to peeking one message.')
param grantQueueManageForScaling bool = false

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: serviceBusNamespaceName

  resource queue 'queues' existing = {
    name: queueName
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = if (!empty(applicationInsightsName)) {
  name: applicationInsightsName
}

// Storage Blob Data Owner, account scope. The Functions host documents Blob Data Owner for
// AzureWebJobsStorage (it creates its own containers at start: keys, leases, Durable's lease and
// large-message containers), which rules out container scope. Over Blob Data Contributor it adds only
// POSIX ACL/ownership rights, which do nothing on this account (no hierarchical namespace), and the
// account holds nothing but this app's data.
resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b')
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b')
    principalId: principalId
    principalType: principalType
  }
}

// Storage Queue Data Contributor, account scope: Durable creates its control and work-item queues
// at start, named after the task hub.
resource queueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, '974c5e8b-45b9-4653-ba55-5f855dd0fb88')
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '974c5e8b-45b9-4653-ba55-5f855dd0fb88')
    principalId: principalId
    principalType: principalType
  }
}

// Storage Table Data Contributor, account scope: Durable creates its History and Instances tables
// at start; the same grant covers the orders and quarantine tables, so no table-scoped duplicate.
resource tableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3')
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3')
    principalId: principalId
    principalType: principalType
  }
}

// Azure Service Bus Data Receiver, queue scope: the session trigger, and the operator endpoints that peek,
// receive and complete in its dead-letter sub-queue (a sub-queue is covered by the queue's scope).
resource serviceBusReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace::queue.id, principalId, '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0')
  scope: namespace::queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0')
    principalId: principalId
    principalType: principalType
  }
}

// Azure Service Bus Data Sender, queue scope: the app publishes sessions to its own queue.
resource serviceBusSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace::queue.id, principalId, '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39')
  scope: namespace::queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39')
    principalId: principalId
    principalType: principalType
  }
}

// Azure Service Bus Data Owner, queue scope, opt-in: see grantQueueManageForScaling.
resource serviceBusQueueOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantQueueManageForScaling) {
  name: guid(namespace::queue.id, principalId, '090c5cfd-751d-490a-894a-3ce6f1109419')
  scope: namespace::queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '090c5cfd-751d-490a-894a-3ce6f1109419')
    principalId: principalId
    principalType: principalType
  }
}

// Monitoring Metrics Publisher, component scope: Entra-authenticated telemetry ingestion.
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(applicationInsightsName)) {
  name: guid(applicationInsights.id, principalId, '3913510d-42f4-4e42-8a64-420c390055eb')
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '3913510d-42f4-4e42-8a64-420c390055eb')
    principalId: principalId
    principalType: principalType
  }
}
