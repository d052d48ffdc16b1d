import { sbNs, xsi } from './adminAtom';
import { escapeXml } from './adminXml';
import type { CorrelationSystemProperty, RuleFilter, SubscriptionDefinition } from './config';

/**
 * A subscription's rules as the management API's RuleDescription, the shape both the .NET and the JS
 * ServiceBusAdministrationClient read (GetRulesAsync / listRules). Read-only: rules come from
 * Config.json or a subscription's default rule.
 */

const xsd = 'http://www.w3.org/2001/XMLSchema';

/** Correlation filter fields by their XML element names (the service calls the subject Label). */
const correlationXmlNames: Record<CorrelationSystemProperty, string> = {
  correlationId: 'CorrelationId',
  messageId: 'MessageId',
  to: 'To',
  replyTo: 'ReplyTo',
  subject: 'Label',
  sessionId: 'SessionId',
  replyToSessionId: 'ReplyToSessionId',
  contentType: 'ContentType',
};

export interface NamedRule {
  name: string;
  filter: RuleFilter;
}

/** A subscription without rules takes every message: the service shows that as `$Default`, 1=1. */
export function rulesOf(subscription: SubscriptionDefinition): NamedRule[] {
  return subscription.rules.length === 0 ? [{ name: '$Default', filter: { type: 'true' } }] : subscription.rules;
}

export function ruleDescription(rule: NamedRule, createdAt: string): string {
  return (
    `<RuleDescription xmlns="${sbNs}" xmlns:i="${xsi}">${filterXml(rule.filter)}` +
    `<Action i:type="EmptyRuleAction"/><CreatedAt>${createdAt}</CreatedAt>` +
    `<Name>${escapeXml(rule.name)}</Name></RuleDescription>`
  );
}

function sqlFilterXml(type: string, expression: string): string {
  return `<Filter i:type="${type}"><SqlExpression>${escapeXml(expression)}</SqlExpression><CompatibilityLevel>20</CompatibilityLevel></Filter>`;
}

function filterXml(filter: RuleFilter): string {
  switch (filter.type) {
    case 'true':
      return sqlFilterXml('TrueFilter', '1=1');
    case 'false':
      return sqlFilterXml('FalseFilter', '1=0');
    case 'sql-equals':
      return sqlFilterXml(
        'SqlFilter',
        `${filter.system ? 'sys.' : ''}${filter.property} = ${sqlLiteral(filter.value)}`,
      );
    case 'correlation': {
      const fields = Object.entries(filter.system).map(([key, value]) => {
        const name = correlationXmlNames[key as CorrelationSystemProperty];
        return `<${name}>${escapeXml(value)}</${name}>`;
      });
      const properties = Object.entries(filter.properties).map(
        ([key, value]) =>
          `<KeyValueOfstringanyType><Key>${escapeXml(key)}</Key>${typedValue(value)}</KeyValueOfstringanyType>`,
      );
      return `<Filter i:type="CorrelationFilter">${fields.join('')}<Properties>${properties.join('')}</Properties></Filter>`;
    }
    default: {
      const unreachable: never = filter;
      return unreachable;
    }
  }
}

function sqlLiteral(value: string | number | boolean): string {
  return typeof value === 'string' ? `'${value.replace(/'/g, "''")}'` : String(value);
}

/** An xs-typed value; the JS reader cuts a five-character prefix ("d6p1:") off the type. */
function typedValue(value: string | number | boolean): string {
  const type =
    typeof value === 'string'
      ? 'string'
      : typeof value === 'boolean'
        ? 'boolean'
        : Number.isInteger(value) && Math.abs(value) <= 0x7fffffff
          ? 'int'
          : 'double';
  return `<Value i:type="d6p1:${type}" xmlns:d6p1="${xsd}">${escapeXml(String(value))}</Value>`;
}
