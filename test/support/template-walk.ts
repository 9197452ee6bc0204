/** A string found in a template, with the JSON path that leads to it. */
export interface TemplateString {
  readonly path: string;
  readonly value: string;
  /** The nearest object key above the value (e.g. `Value` inside an env entry has `Name` beside it). */
  readonly key: string;
  readonly parent: Record<string, unknown> | unknown[];
}

/** Every literal string in a CloudFormation template, depth first. */
export function templateStrings(node: unknown, path = '$', key = '', parent: Record<string, unknown> | unknown[] = []): TemplateString[] {
  if (typeof node === 'string') return [{ path, value: node, key, parent }];
  if (Array.isArray(node)) return node.flatMap((v, i) => templateStrings(v, `${path}[${i}]`, key, node));
  if (node && typeof node === 'object') {
    return Object.entries(node as Record<string, unknown>).flatMap(([k, v]) => templateStrings(v, `${path}.${k}`, k, node as Record<string, unknown>));
  }
  return [];
}
