// The operations workbook: throughput, publish→applied latency, backlog, dead letters and stuck baskets on
// one page (Azure portal > Monitor > Workbooks, or the Application Insights component's Workbooks blade).
// Log charts query the Application Insights component in its classic schema (`traces.message`,
// `timestamp`, `itemCount`: see alerts.bicep); queue charts read the Service Bus metrics directly, which
// need no diagnostic settings. Lines are counted as sum(itemCount) because host.json samples traces.
// The content is a Bicep object so the compiled template keeps it readable for test/infra.

@description('Azure region for the workbook.')
param location string

@description('Tags applied to the workbook.')
param tags object

@description('Display name of the workbook in the portal.')
param displayName string

@description('Application Insights component the log charts query (also the workbook\'s source).')
param applicationInsightsName string

@description('Service Bus namespace whose queue metrics are charted.')
param serviceBusNamespaceName string

@description('The order events queue (the EntityName the queue charts filter on).')
param queueName string

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: serviceBusNamespaceName
}

var content = {
  version: 'Notebook/1.0'
  items: [
    {
      type: 1
      name: 'header'
      content: {
        json: '## convoy operations\nOne page per question an operator asks: is it flowing, how fast, what waits, what is stuck. What each alert means and what to do: `docs/operations.md` in the repository. Console: `/api/console` on the Function App.'
      }
    }
    {
      type: 9
      name: 'parameters'
      content: {
        version: 'KqlParameterItem/1.0'
        parameters: [
          {
            id: 'time-range'
            version: 'KqlParameterItem/1.0'
            name: 'TimeRange'
            label: 'Time range'
            type: 4
            isRequired: true
            value: { durationMs: 3600000 }
            typeSettings: {
              selectableValues: [
                { durationMs: 900000 }
                { durationMs: 3600000 }
                { durationMs: 14400000 }
                { durationMs: 86400000 }
                { durationMs: 604800000 }
              ]
            }
          }
        ]
      }
    }
    {
      type: 3
      name: 'throughput'
      content: {
        version: 'KqlItem/1.0'
        title: 'Throughput: events applied per minute (outcome=applied)'
        query: '''
traces
| where message contains "outcome=applied"
| summarize appliedPerMinute = sum(itemCount) by bin(timestamp, 1m)
| render timechart
'''
        size: 0
        queryType: 0
        resourceType: 'microsoft.insights/components'
        crossComponentResources: [applicationInsights.id]
        timeContextFromParameter: 'TimeRange'
        timeContext: { durationMs: 3600000 }
        visualization: 'timechart'
      }
    }
    {
      type: 3
      name: 'latency'
      content: {
        version: 'KqlItem/1.0'
        title: 'Publish → applied latency, ms (latencyMs= on applied lines)'
        query: '''
traces
| where message contains "outcome=applied"
| extend latencyMs = todouble(extract(@"\blatencyMs=(\d+(?:\.\d+)?)", 1, message))
| where isnotnull(latencyMs)
| summarize p50 = percentilew(latencyMs, itemCount, 50), p95 = percentilew(latencyMs, itemCount, 95), p99 = percentilew(latencyMs, itemCount, 99) by bin(timestamp, 1m)
| render timechart
'''
        size: 0
        queryType: 0
        resourceType: 'microsoft.insights/components'
        crossComponentResources: [applicationInsights.id]
        timeContextFromParameter: 'TimeRange'
        timeContext: { durationMs: 3600000 }
        visualization: 'timechart'
      }
    }
    // Metric items: aggregation 1 Total, 2 Minimum, 3 Maximum, 4 Average. Service Bus message counts are
    // gauges (Average/Minimum/Maximum only), with the queue as their EntityName dimension.
    {
      type: 10
      name: 'backlog'
      content: {
        version: 'MetricsItem/2.0'
        title: 'Backlog on the order events queue: active and scheduled messages'
        size: 0
        chartType: 2 // line chart
        resourceType: 'microsoft.servicebus/namespaces'
        metricScope: 0
        resourceIds: [namespace.id]
        timeContextFromParameter: 'TimeRange'
        timeContext: { durationMs: 3600000 }
        metrics: [
          {
            namespace: 'microsoft.servicebus/namespaces'
            metric: 'microsoft.servicebus/namespaces--ActiveMessages'
            aggregation: 4 // Average
          }
          {
            namespace: 'microsoft.servicebus/namespaces'
            metric: 'microsoft.servicebus/namespaces--ScheduledMessages'
            aggregation: 4 // Average
          }
        ]
        filters: [
          {
            key: 'EntityName'
            operator: 0 // equals
            values: [queueName]
          }
        ]
      }
    }
    {
      type: 10
      name: 'dead-letters'
      content: {
        version: 'MetricsItem/2.0'
        title: 'Dead letters on the order events queue (replay: POST /api/dead-letters/{basketId}/replay)'
        size: 0
        chartType: 2 // line chart
        resourceType: 'microsoft.servicebus/namespaces'
        metricScope: 0
        resourceIds: [namespace.id]
        timeContextFromParameter: 'TimeRange'
        timeContext: { durationMs: 3600000 }
        metrics: [
          {
            namespace: 'microsoft.servicebus/namespaces'
            metric: 'microsoft.servicebus/namespaces--DeadletteredMessages'
            aggregation: 3 // Maximum
          }
        ]
        filters: [
          {
            key: 'EntityName'
            operator: 0 // equals
            values: [queueName]
          }
        ]
      }
    }
    {
      type: 3
      name: 'stuck-baskets'
      content: {
        version: 'KqlItem/1.0'
        title: 'Stuck baskets and baskets in flight (stuckBasketWatchdog tick)'
        query: '''
traces
| where message has "stuckBasketWatchdog" and message contains "stuckBaskets="
| extend stuckBaskets = toint(extract(@"\bstuckBaskets=(\d+)", 1, message)), inFlight = toint(extract(@"\binFlight=(\d+)", 1, message))
| where isnotnull(stuckBaskets)
| summarize stuckBaskets = max(stuckBaskets), inFlight = max(inFlight) by bin(timestamp, 1m)
| render timechart
'''
        size: 0
        queryType: 0
        resourceType: 'microsoft.insights/components'
        crossComponentResources: [applicationInsights.id]
        timeContextFromParameter: 'TimeRange'
        timeContext: { durationMs: 3600000 }
        visualization: 'timechart'
      }
    }
    {
      type: 3
      name: 'stuck-basket-list'
      content: {
        version: 'KqlItem/1.0'
        title: 'Stuck baskets, latest report of each (GET /api/console/stuck has the live list)'
        query: '''
traces
| where message has "stuckBasketWatchdog" and message contains " stuck basketId="
| extend basketId = extract(@"\bbasketId=(\S+)", 1, message), status = extract(@"\bstatus=(\S+)", 1, message), reason = extract(@"\breason=(\S+)", 1, message)
| summarize arg_max(timestamp, status, reason, message, operation_Id) by basketId
| order by timestamp desc
| take 200
'''
        size: 0
        queryType: 0
        resourceType: 'microsoft.insights/components'
        crossComponentResources: [applicationInsights.id]
        timeContextFromParameter: 'TimeRange'
        timeContext: { durationMs: 3600000 }
        visualization: 'table'
      }
    }
    {
      type: 3
      name: 'held-and-failed'
      content: {
        version: 'KqlItem/1.0'
        title: 'Held retries (outcome=held) and failed invocations per minute'
        query: '''
union
  (traces | where message contains "outcome=held" | extend series = "held retries"),
  (requests | where tostring(success) =~ "false" | extend series = strcat("failed ", operation_Name))
| summarize lines = sum(itemCount) by series, bin(timestamp, 1m)
| render timechart
'''
        size: 0
        queryType: 0
        resourceType: 'microsoft.insights/components'
        crossComponentResources: [applicationInsights.id]
        timeContextFromParameter: 'TimeRange'
        timeContext: { durationMs: 3600000 }
        visualization: 'timechart'
      }
    }
  ]
  fallbackResourceIds: [applicationInsights.id]
  '$schema': 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json'
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's resource name must be a GUID; this one is stable per resource group and component.
  name: guid(resourceGroup().id, applicationInsights.id, 'convoy-operations-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: string(content)
  }
}

output name string = workbook.name
