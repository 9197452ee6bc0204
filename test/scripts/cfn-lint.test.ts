import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../scripts/cfn-lint';
import { CfnLintFinding, gate, parseExceptions } from '../../scripts/cfn-lint/gate';
import { captureConsole } from '../support/console-capture';

const exceptionsJson = () => JSON.parse(readFileSync(join(__dirname, '../../scripts/cfn-lint/exceptions.json'), 'utf8')) as { exceptions: unknown[] };
const hasCfnLint = !spawnSync('cfn-lint', ['--version']).error;

const { out, err } = captureConsole();

/** A finding as `cfn-lint --format json` prints it. */
const finding = (rule: string, level: string, path: Array<string | number>, message = 'm'): CfnLintFinding => ({
  Filename: 't.template.json',
  Level: level,
  Message: message,
  Rule: { Id: rule },
  Location: { Path: path, Start: { LineNumber: 7 } },
});
const templates = new Map([
  [
    't.template.json',
    {
      Resources: {
        Rule: { Type: 'AWS::ElasticLoadBalancingV2::ListenerRule' },
        Logs: { Type: 'AWS::Logs::LogGroup' },
        Db: { Type: 'AWS::RDS::DBInstance' },
      },
    },
  ],
]);

describe('the cfn-lint gate', () => {
  const exceptions = parseExceptions(exceptionsJson());

  it("accepts only the listed lag: E3002 'Tags' on the listed types", () => {
    const report = gate([finding('E3002', 'Error', ['Resources', 'Rule', 'Properties', 'Tags'])], templates, exceptions);
    expect(report).toEqual({ countsByRule: { E3002: 1 }, excepted: [1], failures: [] });
  });

  it('fails on the same rule at another property or on another type', () => {
    const report = gate([finding('E3002', 'Error', ['Resources', 'Rule', 'Properties', 'Priorty']), finding('E3002', 'Error', ['Resources', 'Logs', 'Properties', 'Tags'])], templates, exceptions);
    expect(report.failures).toEqual([
      't.template.json:7 E3002 Resources/Rule/Properties/Priorty (AWS::ElasticLoadBalancingV2::ListenerRule): m',
      't.template.json:7 E3002 Resources/Logs/Properties/Tags (AWS::Logs::LogGroup): m',
    ]);
  });

  it('fails on W3691 although it is a warning, and passes other warnings', () => {
    const report = gate(
      [finding('W3691', 'Warning', ['Resources', 'Db', 'Properties'], "Engine version '17.3' for engine 'postgres' is deprecated"), finding('W3005', 'Warning', ['Resources', 'Db', 'DependsOn'])],
      templates,
      exceptions,
    );
    expect(report.failures).toEqual(["t.template.json:7 W3691 Resources/Db/Properties (AWS::RDS::DBInstance): Engine version '17.3' for engine 'postgres' is deprecated"]);
    expect(report.countsByRule).toEqual({ W3691: 1, W3005: 1 });
  });

  it('refuses an exception for W3691, or one without a reason', () => {
    const [base] = exceptionsJson().exceptions as Array<Record<string, unknown>>;
    expect(() => parseExceptions({ exceptions: [{ ...base, rule: 'W3691' }] })).toThrow('exceptions[0].rule: W3691 cannot be excepted');
    expect(() => parseExceptions({ exceptions: [{ ...base, reason: 'lag' }] })).toThrow('exceptions[0].reason: say why cfn-lint is wrong here');
  });
});

describe('scripts/cfn-lint.ts without cfn-lint on PATH', () => {
  const noTools = { PATH: mkdtempSync(join(tmpdir(), 'no-cfn-lint-')) };

  it('says so and skips on a developer machine', () => {
    expect(main([], noTools)).toBe(0);
    expect(out.join('\n')).toContain('cfn-lint: not found on PATH, so the CloudFormation lint gate was skipped');
  });

  it('fails under CI=true, where it is installed', () => {
    expect(main([], { ...noTools, CI: 'true' })).toBe(1);
    expect(err.join('\n')).toContain('cfn-lint: not found on PATH. CI machines have it installed');
  });
});

(hasCfnLint ? describe : describe.skip)('scripts/cfn-lint.ts with the real cfn-lint', () => {
  const dirWith = (resources: Record<string, unknown>): string => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cfn-lint-gate-')), 'env');
    mkdirSync(dir);
    writeFileSync(join(dir, 'Stack.template.json'), JSON.stringify({ AWSTemplateFormatVersion: '2010-09-09', Resources: resources }, null, 1));
    return dir;
  };

  // One cfn-lint run (it takes several seconds to start): the listed lag is excepted, the rest fails.
  it('excepts Tags on a ListenerRule, and fails on an engine version RDS no longer creates and on an error-level finding', () => {
    const dir = dirWith({
      Rule: {
        Type: 'AWS::ElasticLoadBalancingV2::ListenerRule',
        Properties: {
          ListenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/chat/50dc6c495c0c9188/f2f7dc8efc522ab2',
          Priority: 300,
          Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/mcp'] } }],
          Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
          Tags: [{ Key: 'project', Value: 'phenom' }],
        },
      },
      Db: {
        Type: 'AWS::RDS::DBInstance',
        Properties: { Engine: 'postgres', EngineVersion: '17.3', DBInstanceClass: 'db.m5.large', AllocatedStorage: '20', MasterUsername: 'chat_admin', ManageMasterUserPassword: true },
      },
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 45 } },
    });
    expect(main(['--dir', dir], process.env)).toBe(1);
    const printed = out.join('\n');
    expect(printed).toMatch(/E3002 Error +1 +\(1 excepted: exceptions\.json\)/);
    expect(printed).toContain('gate: FAILED, 2 finding(s)');
    expect(printed).toMatch(/Stack\.template\.json:\d+ W3691 Resources\/Db\/Properties \(AWS::RDS::DBInstance\): Engine version '17\.3'/);
    expect(printed).toMatch(/E\d{4} Resources\/Logs\/Properties\/RetentionInDays \(AWS::Logs::LogGroup\)/);
  }, 120_000);
});
