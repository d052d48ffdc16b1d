/**
 * Just enough XML for the Service Bus management (ATOM) API: the bodies the .NET
 * ServiceBusAdministrationClient sends are small, flat documents, so a tolerant reader that keeps
 * local names and attributes is all the emulator needs. No DTDs, no CDATA sections.
 */

export interface XmlElement {
  /** Local name (namespace prefix dropped). */
  name: string;
  /** Attributes by local name. */
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const entities: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, ref: string) => {
    if (ref.startsWith('#x') || ref.startsWith('#X')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number(ref.slice(1)));
    return entities[ref] ?? whole;
  });
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const localName = (qualified: string): string => qualified.slice(qualified.indexOf(':') + 1);

/** Parses one document; throws an Error naming the position on malformed input. */
export function parseXml(source: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const tag = /<(\/?)([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g;
  let at = 0;
  for (let match = tag.exec(source); match !== null; match = tag.exec(source)) {
    const between = source.slice(at, match.index);
    if (between.includes('<')) throw new Error(`malformed XML near offset ${String(at + between.indexOf('<'))}`);
    const current = stack[stack.length - 1];
    if (current !== undefined) current.text += decode(between);
    at = tag.lastIndex;
    const [, closing, qualified, rawAttributes, selfClosing] = match;
    if (qualified === undefined) continue; // declaration or comment
    const name = localName(qualified);
    if (closing === '/') {
      const open = stack.pop();
      if (open === undefined || open === root || open.name !== name)
        throw new Error(`malformed XML: </${qualified}> does not close <${open?.name ?? 'nothing'}>`);
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const a of (rawAttributes ?? '').matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      attributes[localName(a[1] ?? '')] = decode(a[2] ?? a[3] ?? '');
    }
    const element: XmlElement = { name, attributes, children: [], text: '' };
    (current ?? root).children.push(element);
    if (selfClosing !== '/') stack.push(element);
  }
  if (source.slice(at).includes('<')) throw new Error(`malformed XML near offset ${String(at)}`);
  if (stack.length !== 1) throw new Error(`malformed XML: <${stack[stack.length - 1]?.name ?? ''}> is never closed`);
  const [document] = root.children;
  if (document === undefined || root.children.length !== 1) throw new Error('malformed XML: expected one root element');
  return document;
}

export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

/** Milliseconds → xs:duration as XmlConvert.ToTimeSpan reads it (P1DT2H3M4.5S). */
export function xmlDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms));
  const days = Math.floor(rest / 86_400_000);
  rest -= days * 86_400_000;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  const time = `${hours > 0 ? `${String(hours)}H` : ''}${minutes > 0 ? `${String(minutes)}M` : ''}${seconds > 0 ? `${String(seconds)}S` : ''}`;
  return `P${days > 0 ? `${String(days)}D` : ''}${time === '' ? (days > 0 ? '' : 'T0S') : `T${time}`}`;
}
