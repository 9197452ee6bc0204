import { randomUUID } from 'node:crypto';

/**
 * Response bodies of the AWS Query protocols, as the services send them and the SDK's
 * deserializers read them:
 * - awsQuery (STS, CloudFormation, RDS, ELBv2): `<XResponse xmlns=…><XResult>…</XResult>
 *   <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></XResponse>`; errors
 *   `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…`.
 *   A list's items are `<member>` unless the API names them (RDS: `<DBInstance>`, …).
 * - ec2Query (EC2): `<XResponse xmlns=…><requestId>…</requestId>…</XResponse>`, lists of
 *   `<item>`, errors `<Response><Errors><Error><Code>…</Code><Message>…</Message></Error></Errors><RequestID>…`.
 */

/** One XML element's content: text, or child elements in order. */
export type XmlValue = string | number | boolean | undefined | XmlNode[];
export interface XmlNode {
  readonly name: string;
  readonly value: XmlValue;
}

export const el = (name: string, value: XmlValue): XmlNode => ({ name, value });

/** The fields of an object as elements, in order (undefined fields left out). */
export const fields = (obj: Record<string, XmlValue>): XmlNode[] => Object.entries(obj).map(([k, v]) => el(k, v));

/** A list: `<name><member>…</member>…</name>` (or another item element name). */
export const list = (name: string, items: XmlValue[], itemName = 'member'): XmlNode =>
  el(
    name,
    items.map((i) => el(itemName, i)),
  );

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function renderXml(nodes: XmlNode[]): string {
  return nodes
    .filter((n) => n.value !== undefined)
    .map((n) => `<${n.name}>${Array.isArray(n.value) ? renderXml(n.value) : escape(String(n.value))}</${n.name}>`)
    .join('');
}

export function queryResponse(action: string, namespace: string, result: XmlNode[]): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${namespace}">` +
    `<${action}Result>${renderXml(result)}</${action}Result>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function queryError(namespace: string, code: string, message: string, type: 'Sender' | 'Receiver' = 'Sender'): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${namespace}">` +
    renderXml([el('Error', fields({ Type: type, Code: code, Message: message }))]) +
    `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`
  );
}

export function ec2Response(action: string, namespace: string, body: XmlNode[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${namespace}"><requestId>${randomUUID()}</requestId>${renderXml(body)}</${action}Response>`;
}

export function ec2Error(code: string, message: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response>` + renderXml([el('Errors', [el('Error', fields({ Code: code, Message: message }))])]) + `<RequestID>${randomUUID()}</RequestID></Response>`
  );
}

/** The numbered members of a Query list parameter: `Prefix.1`, `Prefix.2`, … */
export function queryList(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) out.push(params.get(`${prefix}.${i}`) as string);
  return out;
}
