import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ENVIRONMENTS_CONTEXT_KEY } from '../../lib/config';
import { main } from '../../scripts/preflight';
import { readAssembly, synthesizeAssembly } from '../../scripts/preflight/synth';
import { AccountStandIn, startAccountStandIn } from '../support/aws/account-stand-in';
import { standInAwsEnv, standInClients } from '../support/aws/sdk-env';
import { captureConsole } from '../support/console-capture';
import { writeCdkJson } from '../support/cdk-json';
import { BUILDX_AMD64_ONLY, BUILDX_MULTIARCH, fakeDocker } from '../support/fake-docker';
import { cdkJsonEnvironments } from '../support/synth';

/** One image per docker/ directory with a Dockerfile (Synapse, its edge proxy, the Admin UI, the MCP server, Hasura). */
const DOCKER_IMAGE_DIRECTORIES = readdirSync(join(__dirname, '..', '..', 'docker')).filter((d) => existsSync(join(__dirname, '..', '..', 'docker', d, 'Dockerfile')));

const REPO = join(__dirname, '../..');
const cdkJson = JSON.parse(readFileSync(join(REPO, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

let assemblyDir: string;
let aws: AccountStandIn;
const { out, err } = captureConsole();

beforeAll(() => {
  // One synth for the file, with the code the preflight synthesizes with; the runs below read it (--app).
  assemblyDir = mkdtempSync(join(tmpdir(), 'preflight-assembly-'));
  synthesizeAssembly({ ...cdkJson.context, env: 'development' }, assemblyDir);
}, 120_000);

/** An account that is ready for a development deploy. */
async function readyAccount(): Promise<AccountStandIn> {
  const account = await startAccountStandIn();
  account.stacks.set('CDKToolkit', { StackStatus: 'UPDATE_COMPLETE', Outputs: { BootstrapVersion: '30' }, Parameters: { Qualifier: 'hnb659fds' }, Resources: [] });
  account.orderable.push({ Engine: 'postgres', EngineVersion: '17.9', DBInstanceClass: 'db.m5.large', StorageType: 'gp3', MultiAZCapable: true, AvailabilityZones: ['us-east-1a', 'us-east-1b'] });
  return account;
}

const clientsFor = (account: AccountStandIn) => standInClients(account.url);

beforeEach(async () => {
  aws = await readyAccount();
});
afterEach(() => aws.close());

describe('the synthesized assembly', () => {
  it('gives the bootstrap version the template itself enforces, and the images to build', () => {
    const facts = readAssembly(assemblyDir, 'PhenomChat-development');
    // The CheckBootstrapVersion rule rejects the versions it lists; the lowest accepted one is one more.
    const template = JSON.parse(readFileSync(join(assemblyDir, 'PhenomChat-development.template.json'), 'utf8'));
    const rejected = template.Rules.CheckBootstrapVersion.Assertions[0].Assert['Fn::Not'][0]['Fn::Contains'][0] as string[];
    expect(facts.requiredBootstrapVersion).toBe(Math.max(...rejected.map(Number)) + 1);
    expect(facts).toMatchObject({ bootstrapQualifier: 'hnb659fds', dockerImages: DOCKER_IMAGE_DIRECTORIES.length, dockerPlatforms: ['linux/arm64'] });
  });
});

describe('npm run preflight', () => {
  it('prints ok for every check and exits 0 when the machine and account are ready', async () => {
    const docker = fakeDocker({ engine: 'running', buildx: BUILDX_MULTIARCH });
    expect(await main(['-c', 'env=development', '--app', assemblyDir, '--docker', docker.path], { clients: clientsFor(aws) })).toBe(0);
    expect(out.map((l) => l.split(':')[0])).toEqual([
      'preflight for PhenomChat-development (region us-east-1)',
      'ok   synth',
      'ok   docker',
      'ok   buildx',
      'ok   credentials',
      'ok   bootstrap',
      'ok   rds-engine',
      'all 6 checks passed',
    ]);
    expect(out).toContain('ok   bootstrap: CDKToolkit in aws://111122223333/us-east-1: version 30 (the app needs 6 or later), UPDATE_COMPLETE');
    expect(out.at(-1)).toBe('all 6 checks passed: `npx cdk deploy -c env=development`');
  });

  it('prints each fix and exits 1 on a machine without a Docker engine and an unbootstrapped region', async () => {
    aws.stacks.delete('CDKToolkit');
    const docker = fakeDocker({ engine: 'stopped', buildx: BUILDX_AMD64_ONLY });
    expect(await main(['-c', 'env=development', '--app', assemblyDir, '--docker', docker.path], { clients: clientsFor(aws) })).toBe(1);
    expect(out).toEqual(
      expect.arrayContaining([
        'FAIL docker: the Docker engine is not running (Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?): start Docker (Docker Desktop, or `sudo systemctl start docker`), then run this again',
        'skip buildx: needs docker, which did not pass',
        'FAIL bootstrap: aws://111122223333/us-east-1 is not bootstrapped (no CDKToolkit stack): run `npx cdk bootstrap aws://111122223333/us-east-1`',
        'ok   rds-engine: PostgreSQL 17.9 on db.m5.large (gp3) in us-east-1',
      ]),
    );
    expect(out.at(-1)).toBe('2 of 6 checks failed: fix them, then run `npm run preflight -- -c env=development` again');
  });

  it('fails the synth check for a folder that is not an assembly, or an assembly of another environment', async () => {
    const docker = fakeDocker({ engine: 'running', buildx: BUILDX_MULTIARCH });
    const empty = mkdtempSync(join(tmpdir(), 'not-an-assembly-'));
    expect(await main(['-c', 'env=development', '--app', empty, '--docker', docker.path], { clients: clientsFor(aws) })).toBe(1);
    expect(out).toContain(`FAIL synth: ${empty} is not a cloud assembly (no manifest.json): run \`npx cdk synth\` or leave out --app`);
    expect(out).toContain('skip buildx: needs synth, which did not pass');
    out.length = 0;
    expect(await main(['-c', 'env=production', '--app', assemblyDir, '--docker', docker.path], { clients: clientsFor(aws) })).toBe(1);
    expect(out).toContain(`FAIL synth: the assembly in ${assemblyDir} has no stack PhenomChat-production: synthesize it with the same -c env=… (or leave out --app)`);
  });

  it('reports an invalid config as the failing check, and a usage mistake with exit 2', async () => {
    const envs = cdkJsonEnvironments();
    envs.development.database = { mode: 'create', instanceClass: 'm5.large' };
    expect(await main(['-c', 'env=development'], { clients: clientsFor(aws), cdkJsonPath: writeCdkJson(envs) })).toBe(1);
    expect(out).toEqual([`FAIL config: ${ENVIRONMENTS_CONTEXT_KEY}.development.database.instanceClass: expected an RDS instance class such as db.m5.large`]);

    out.length = 0;
    // Read as synth reads it: a typo for env is refused, not a silent development preflight.
    expect(await main(['-c', 'environment=production'], { clients: clientsFor(aws) })).toBe(1);
    expect(out).toEqual(['FAIL config: environment: unknown context key; the environment is picked with -c env=NAME (did you mean -c env=production?)']);

    expect(await main(['-c', 'env=staging'], { clients: clientsFor(aws) })).toBe(2);
    expect(err.at(-1)).toMatch(/^unknown environment "staging"; cdk.json has development, production \(pick one with -c env=NAME\)\nusage: npm run preflight/);
    expect(await main(['--app'], { clients: clientsFor(aws) })).toBe(2);
    expect(err.at(-1)).toMatch(/Option '--app <value>' argument missing[\s\S]*usage: npm run preflight/);
    expect(await main(['--help'], { clients: clientsFor(aws) })).toBe(0);
    expect(out.at(-1)).toMatch(/^usage: npm run preflight -- -c env=NAME/);
    expect(aws.calls).toEqual([]);
  });

  describe('as the npm script, with the fake docker first on PATH and the endpoints in the environment', () => {
    const run = (env: Record<string, string>) =>
      promisify(execFile)('npx', ['tsx', 'scripts/preflight.ts', '-c', 'env=development', '--app', assemblyDir], {
        cwd: REPO,
        env: {
          PATH: `${fakeDocker({ engine: 'running', buildx: BUILDX_MULTIARCH }).dir}:${process.env.PATH}`,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...env,
        },
      }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
      );

    it('passes against the stand-ins', async () => {
      const { code, stdout } = await run({ HOME: process.env.HOME ?? '/tmp', ...standInAwsEnv({ account: aws.url }) });
      expect(stdout).toContain('ok   docker: Docker Engine 28.2.2 (linux/amd64)');
      expect(stdout).toContain('ok   credentials: arn:aws:sts::111122223333:assumed-role/deployer/stand-in (account 111122223333)');
      expect(code).toBe(0);
      // A tsx start plus the app's modules: seconds alone, longer beside the rest of the suite on two cores.
    }, 120_000);

    it('says how to sign in when there are no credentials anywhere', async () => {
      const home = mkdtempSync(join(tmpdir(), 'no-aws-home-'));
      // No keys, no profile files, no instance metadata: the SDK's whole chain comes up empty.
      const { code, stdout } = await run({ HOME: home, AWS_REGION: 'us-east-1', AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'), AWS_ENDPOINT_URL: aws.url });
      expect(stdout).toContain(
        'FAIL credentials: no AWS credentials found: sign in (`aws sso login --profile phenom`, then `export AWS_PROFILE=phenom`) or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
      );
      expect(stdout).toContain('skip bootstrap: needs credentials, which did not pass');
      expect(code).toBe(1);
      expect(aws.calls).toEqual([]);
    }, 120_000);
  });
});
