// The Service Bus namespace and the session-enabled queue the convoy reads. SAS (local) auth is off:
// senders and receivers authenticate with Entra and are authorised per queue by RBAC.

@description('Name of the Service Bus namespace (globally unique).')
@minLength(6)
@maxLength(50)
param name string

@description('Azure region for the namespace.')
param location string

@description('Tags applied to the namespace.')
param tags object

@description('Namespace tier. Sessions need Standard or Premium (Basic has no sessions).')
@allowed([
  'Standard'
  'Premium'
])
param skuName string

@description('Name of the session-enabled queue carrying order events (ORDER_EVENTS_QUEUE).')
param queueName string

@description('How long a receiver holds a message (and, in session mode, the session) before it must renew, ISO 8601. The host renews it up to maxAutoLockRenewalDuration in host.json.')
param lockDuration string

@description('Deliveries before a message is dead-lettered. Service Bus triggers have no function-level retry: this bounds redeliveries.')
@minValue(1)
@maxValue(2000)
param maxDeliveryCount int

@description('Window in which a repeated MessageId is dropped as a duplicate, ISO 8601 (20 seconds to 7 days).')
param duplicateDetectionWindow string

@description('Time to live of an event on the queue, ISO 8601; expired events are dead-lettered, not dropped.')
param messageTimeToLive string

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    // Premium is sold in messaging units; Standard has no capacity setting.
    capacity: skuName == 'Premium' ? 1 : null
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }

  resource queue 'queues' = {
    name: queueName
    properties: {
      requiresSession: true
      lockDuration: lockDuration
      maxDeliveryCount: maxDeliveryCount
      deadLetteringOnMessageExpiration: true
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
      defaultMessageTimeToLive: messageTimeToLive
      // Partitioning spreads one queue over brokers; ordering inside a session holds either way,
      // but it cannot be changed after creation and buys nothing at this scale.
      enablePartitioning: false
      enableBatchedOperations: true
    }
  }
}

output name string = namespace.name
output queueName string = namespace::queue.name
// The AMQP host name, e.g. sb-x.servicebus.windows.net, taken from the endpoint the service reports.
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '//')[1], ':')[0]
