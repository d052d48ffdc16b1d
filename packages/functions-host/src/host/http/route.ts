/**
 * HTTP route templates as the Functions host accepts them: literal segments, `{name}`, optional
 * `{name?}`, constrained `{name:int}`, defaults `{name=value}` and catch-all `{*rest}`, matched
 * case-insensitively under the route prefix (`api` by default). Paths arrive decoded as Kestrel decodes
 * them (`requestTarget.ts`), so values are taken as they are. How routes are ORDERED is the router's
 * business (`server.ts`): the host does not rank templates.
 */
export interface CompiledRoute {
  template: string;
  match(path: string): Record<string, string> | undefined;
}

const constraints: Record<string, string> = {
  int: '-?\\d+',
  long: '-?\\d+',
  alpha: '[A-Za-z]+',
  bool: '(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])',
  guid: '[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}',
  double: '-?\\d+(?:\\.\\d+)?',
  decimal: '-?\\d+(?:\\.\\d+)?',
  float: '-?\\d+(?:\\.\\d+)?',
};

interface Param {
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue: string | undefined;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function parseParam(body: string): { param: Param; pattern: string } {
  let text = body;
  const catchAll = text.startsWith('*');
  if (catchAll) text = text.replace(/^\*+/, '');
  let defaultValue: string | undefined;
  const eq = text.indexOf('=');
  if (eq >= 0) {
    defaultValue = text.slice(eq + 1);
    text = text.slice(0, eq);
  }
  let optional = text.endsWith('?');
  if (optional) text = text.slice(0, -1);
  const [name = '', ...constraintParts] = text.split(':');
  const constraintPatterns = constraintParts.map((c) => {
    const key = c.replace(/\(.*\)$/, '').toLowerCase();
    return constraints[key];
  });
  const first = constraintPatterns.find((p) => p !== undefined);
  if (catchAll || defaultValue !== undefined) optional = true;
  return {
    param: { name, optional, catchAll, defaultValue },
    pattern: catchAll ? '.*' : (first ?? '[^/]+'),
  };
}

export function compileRoute(prefix: string, route: string): CompiledRoute {
  const template = [prefix, route]
    .map((part) => part.replace(/^\/+|\/+$/g, ''))
    .filter((part) => part !== '')
    .join('/');
  const params: Param[] = [];
  let source = '^';
  for (const segment of template.split('/')) {
    if (segment === '') continue;
    const pieces = segment.split(/(\{[^}]+\})/).filter((p) => p !== '');
    const whole = pieces.length === 1 && pieces[0]?.startsWith('{') === true;
    let segmentSource = '';
    for (const piece of pieces) {
      if (piece.startsWith('{') && piece.endsWith('}')) {
        const { param, pattern } = parseParam(piece.slice(1, -1));
        params.push(param);
        segmentSource += `(${pattern})${param.optional && !whole ? '?' : ''}`;
      } else {
        segmentSource += escape(piece);
      }
    }
    const last = params[params.length - 1];
    source += whole && last?.optional === true ? `(?:/${segmentSource})?` : `/${segmentSource}`;
  }
  const regExp = new RegExp(`${source}/?$`, 'i');
  return {
    template,
    match(path) {
      const found = regExp.exec(path);
      if (found === null) return undefined;
      const values: Record<string, string> = {};
      params.forEach((param, index) => {
        const value = found[index + 1];
        if (value !== undefined && value !== '') values[param.name] = value;
        else if (param.defaultValue !== undefined) values[param.name] = param.defaultValue;
      });
      return values;
    },
  };
}
