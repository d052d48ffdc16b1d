// What raises the alarm: one action group and four alert rules, each explained in docs/operations.md.
// - dead letters: a platform metric of the Service Bus namespace, filtered to the order events queue;
// - stuck baskets, held calls, failed invocations: log search rules on the Application Insights component
//   (see the schema note below). The component rather than the workspace is the scope because it is
//   this app's own: a workspace shared with other apps would need every query filtered to this one.
// Failures come from App Insights `requests` (success false), not a Microsoft.Web/sites metric: the
// Functions execution metrics (FunctionExecutionCount, Flex Consumption's OnDemandFunctionExecutionCount)
// carry no outcome dimension (only Instance), and Http5xx sees HTTP triggers only, never the queue trigger.
//
// The queries use the component's (classic) schema: `traces.message`, `requests.success`, `timestamp`,
// `itemCount`, `operation_Name`. The same rows sit in the workspace as AppTraces/AppRequests with Message,
// Success, TimeGenerated, ItemCount, OperationName. host.json samples telemetry (Request excluded), so log
// lines are counted as the sum of itemCount (how many lines each kept row stands for), never as rows.
// `success` is a string ("True"/"False") in the component's schema and a bool in the workspace's, so it is
// compared as `tostring(success) =~ "false"`, which holds for both. The tokens matched are the log-line
// contract listed in docs/operations.md; test/infra analyses every query against the component's schema.

@description('Azure region for the log search rules (metric alerts and action groups are global).')
param location string

@description('Tags applied to every alert resource.')
param tags object

@description('Name of the action group every rule notifies.')
param actionGroupName string

@description('E-mail address the action group notifies; empty creates the group with no receiver (attach your own later).')
param alertEmail string

@description('Application Insights component the log search rules query.')
param applicationInsightsName string

@description('Service Bus namespace whose dead-letter metric is watched.')
param serviceBusNamespaceName string

@description('The order events queue (the EntityName dimension of the dead-letter metric).')
param queueName string

@description('Held retries (`outcome=held` lines) in 5 minutes above which the held-calls alert fires.')
@minValue(0)
param heldRetriesThreshold int

@description('Failed invocations of one function in 5 minutes above which the function-failures alert fires.')
@minValue(0)
param failedInvocationsThreshold int

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: serviceBusNamespaceName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'convoy'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'operator'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

// The dead-letter count is a gauge (Average/Minimum/Maximum, 1-minute grain): any dead letter on the queue
// fires within minutes; the alert resolves itself once a replay has emptied the dead-letter queue.
resource deadLetterAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'convoy-dead-letters'
  location: 'global'
  tags: tags
  properties: {
    description: 'Dead-lettered messages on ${queueName}: a basket waits behind each one. Runbook: docs/operations.md#dead-letters'
    severity: 1
    enabled: true
    scopes: [namespace.id]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'DeadLetteredOnOrderEvents'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [queueName]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: [
      { actionGroupId: actionGroup.id }
    ]
  }
}

// Query validation is skipped on the log search rules: a fresh component has no telemetry yet, and the
// queries are checked on the compiled template by test/infra instead.

// The watchdog logs a tick each run; the smallest count over 10 minutes above 0 means some basket stayed
// stuck through every tick of the window.
resource stuckBasketsAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'convoy-stuck-baskets'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    enabled: true
    scopes: [applicationInsights.id]
    autoMitigate: true
    skipQueryValidation: true
    actions: {
      actionGroups: [actionGroup.id]
    }
    displayName: 'convoy: stuck baskets for 10 minutes'
    description: 'The stuck-basket watchdog reported stuck baskets on every tick for 10 minutes. Runbook: docs/operations.md#stuck-baskets'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT10M'
    criteria: {
      allOf: [
        {
          query: '''
traces
| where message has "stuckBasketWatchdog" and message contains "stuckBaskets="
| extend stuckBaskets = toint(extract(@"\bstuckBaskets=(\d+)", 1, message))
| where isnotnull(stuckBaskets)
| project timestamp, stuckBaskets
'''
          timeAggregation: 'Minimum'
          metricMeasureColumn: 'stuckBaskets'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
  }
}

resource heldCallsAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'convoy-held-calls'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    enabled: true
    scopes: [applicationInsights.id]
    autoMitigate: true
    skipQueryValidation: true
    actions: {
      actionGroups: [actionGroup.id]
    }
    displayName: 'convoy: held calls above ${heldRetriesThreshold} retries in 5 minutes'
    description: 'Calls are holding messages through transient failures (storage, ETag conflicts, the durable client). Runbook: docs/operations.md#held-calls'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: '''
traces
| where message contains "outcome=held"
| project timestamp, itemCount
'''
          timeAggregation: 'Total'
          metricMeasureColumn: 'itemCount'
          operator: 'GreaterThan'
          threshold: heldRetriesThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
  }
}

// One alert per failing function (operation_Name is the function's name on a Functions request).
resource functionFailuresAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'convoy-function-failures'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    enabled: true
    scopes: [applicationInsights.id]
    autoMitigate: true
    skipQueryValidation: true
    actions: {
      actionGroups: [actionGroup.id]
    }
    displayName: 'convoy: failed function invocations'
    description: 'Invocations that threw: a held call that ran out of time, a bug, a dependency down. Runbook: docs/operations.md#function-failures'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: '''
requests
| where tostring(success) =~ "false"
| project timestamp, operation_Name, itemCount
'''
          timeAggregation: 'Total'
          metricMeasureColumn: 'itemCount'
          dimensions: [
            {
              name: 'operation_Name'
              operator: 'Include'
              values: ['*']
            }
          ]
          operator: 'GreaterThan'
          threshold: failedInvocationsThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
  }
}

output actionGroupName string = actionGroup.name
