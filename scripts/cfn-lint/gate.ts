/**
 * The CI gate over cfn-lint's findings: no error-level finding and no W3691 (an RDS engine version RDS
 * no longer creates), except the findings exceptions.json lists, each with its reason.
 */

/** One finding as `cfn-lint --format json` prints it. */
export interface CfnLintFinding {
  readonly Filename: string;
  readonly Level: 'Error' | 'Warning' | 'Informational' | string;
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Location: { readonly Path?: ReadonlyArray<string | number>; readonly Start: { readonly LineNumber: number } };
}

export interface LintException {
  readonly rule: string;
  readonly resourceTypes: readonly string[];
  /** The property path under the resource, e.g. ["Properties", "Tags"]; the finding's path must start with it. */
  readonly path: readonly string[];
  readonly reason: string;
}

/** Rules no exception may cover. */
export const NEVER_EXCEPTED = ['W3691'];

/** Reads exceptions.json, refusing an entry without a reason or one that would hide W3691. */
export function parseExceptions(json: unknown): LintException[] {
  const list = (json as { exceptions?: unknown })?.exceptions;
  if (!Array.isArray(list)) throw new Error('cfn-lint exceptions: expected {"exceptions": [...]}');
  return list.map((e, i) => {
    const x = e as Partial<LintException>;
    const where = `cfn-lint exceptions[${i}]`;
    if (typeof x.rule !== 'string' || !/^[EWI]\d{4}$/.test(x.rule)) throw new Error(`${where}.rule: expected a cfn-lint rule id such as E3002`);
    if (NEVER_EXCEPTED.includes(x.rule)) throw new Error(`${where}.rule: ${x.rule} cannot be excepted; fix the template instead`);
    if (!Array.isArray(x.resourceTypes) || x.resourceTypes.length === 0 || !x.resourceTypes.every((t) => /^AWS::\w+::\w+$/.test(String(t)))) {
      throw new Error(`${where}.resourceTypes: expected resource types such as AWS::CloudWatch::Dashboard`);
    }
    if (!Array.isArray(x.path) || x.path.length === 0) throw new Error(`${where}.path: expected a property path such as ["Properties", "Tags"]`);
    if (typeof x.reason !== 'string' || x.reason.length < 40) throw new Error(`${where}.reason: say why cfn-lint is wrong here (at least 40 characters)`);
    return x as LintException;
  });
}

type Template = { Resources?: Record<string, { Type?: string }> };

export interface GateReport {
  /** Finding count per rule id (every finding, excepted or not). */
  readonly countsByRule: Record<string, number>;
  /** How many findings each exception covered, by its index. */
  readonly excepted: number[];
  /** The findings that fail the gate, as `file:line rule message` lines. */
  readonly failures: string[];
}

/** The resource type a finding is about, when its path is under Resources. */
function resourceTypeOf(finding: CfnLintFinding, templates: ReadonlyMap<string, Template>): string | undefined {
  const path = finding.Location.Path ?? [];
  if (path[0] !== 'Resources') return undefined;
  return templates.get(finding.Filename)?.Resources?.[String(path[1])]?.Type;
}

function matches(exception: LintException, finding: CfnLintFinding, type: string | undefined): boolean {
  const path = (finding.Location.Path ?? []).slice(2).map(String);
  return finding.Rule.Id === exception.rule && type !== undefined && exception.resourceTypes.includes(type) && exception.path.every((segment, i) => path[i] === segment);
}

export function gate(findings: readonly CfnLintFinding[], templates: ReadonlyMap<string, Template>, exceptions: readonly LintException[]): GateReport {
  const countsByRule: Record<string, number> = {};
  const excepted = exceptions.map(() => 0);
  const failures: string[] = [];
  for (const f of findings) {
    countsByRule[f.Rule.Id] = (countsByRule[f.Rule.Id] ?? 0) + 1;
    const type = resourceTypeOf(f, templates);
    const covering = NEVER_EXCEPTED.includes(f.Rule.Id) ? -1 : exceptions.findIndex((e) => matches(e, f, type));
    if (covering >= 0) {
      excepted[covering]++;
      continue;
    }
    if (f.Level === 'Error' || NEVER_EXCEPTED.includes(f.Rule.Id)) {
      const at = (f.Location.Path ?? []).join('/');
      failures.push(`${f.Filename}:${f.Location.Start.LineNumber} ${f.Rule.Id} ${at}${type ? ` (${type})` : ''}: ${f.Message}`);
    }
  }
  return { countsByRule, excepted, failures };
}
