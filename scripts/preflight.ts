/**
 * Checks, before `cdk deploy`, everything that would make the deploy fail and can be known in
 * advance: the app synthesizes; Docker runs and buildx builds for the images' platform; the
 * credentials work and belong to the configured account; the account and region are bootstrapped
 * recently enough; imported resources exist as configured; RDS creates the configured engine
 * version and class in the region; the SES identity is verified.
 *
 *   npm run preflight -- -c env=production
 *   npm run preflight -- -c env=development --app cdk.out      # read an existing synth
 *
 * Prints `ok   <check>: …` or `FAIL <check>: <what to do>` per check; exits 1 if any failed, 2 on a usage error.
 */
import { ConfigError } from '../lib/config';
import { AwsClients } from './aws/clients';
import { parseScriptArgs, runMain } from './cli';
import { loadDeployTarget, UsageError } from './deploy-config';
import { bootstrapCheck } from './preflight/bootstrap';
import { certificateCheck } from './preflight/certificate';
import { type Check, formatResult, type PreflightContext, runChecks } from './preflight/check';
import { clusterCheck } from './preflight/cluster';
import { credentialsCheck } from './preflight/credentials';
import { databaseCheck } from './preflight/database';
import { buildxCheck, dockerCheck } from './preflight/docker';
import { loadBalancerCheck } from './preflight/load-balancer';
import { networkCheck } from './preflight/network';
import { rdsEngineCheck } from './preflight/rds-engine';
import { secretsCheck } from './preflight/secrets';
import { sesCheck } from './preflight/ses';
import { synthCheck } from './preflight/synth';
import { userPoolCheck } from './preflight/user-pool';

const USAGE =
  'usage: npm run preflight -- -c env=NAME [--app CLOUD_ASSEMBLY_DIR] [--docker PATH] [--endpoint-url URL] [--toolkit-stack-name NAME]\n' +
  '  --app                 read an already synthesized assembly (e.g. cdk.out) instead of synthesizing\n' +
  '  --docker              the docker executable (default: $CDK_DOCKER, else docker on PATH)\n' +
  '  --endpoint-url        send every AWS call to this endpoint (an emulator); AWS_ENDPOINT_URL* work too\n' +
  '  --toolkit-stack-name  the CDK bootstrap stack (default CDKToolkit)';

/** In deploy order: what fails first in `cdk deploy` is checked first. */
export const CHECKS: readonly Check[] = [
  synthCheck,
  dockerCheck,
  buildxCheck,
  credentialsCheck,
  bootstrapCheck,
  certificateCheck,
  networkCheck,
  loadBalancerCheck,
  clusterCheck,
  databaseCheck,
  rdsEngineCheck,
  secretsCheck,
  userPoolCheck,
  sesCheck,
];

export interface PreflightDeps {
  /** @default - clients in the config's region, with the SDK's credential chain */
  readonly clients?: AwsClients;
  /** @default - the repository's cdk.json */
  readonly cdkJsonPath?: string;
  /** @default process.env (for CDK_DOCKER) */
  readonly env?: NodeJS.ProcessEnv;
}

interface Flags {
  context?: string[];
  app?: string;
  docker?: string;
  'endpoint-url'?: string;
  'toolkit-stack-name'?: string;
}

export async function main(argv: string[], deps: PreflightDeps = {}): Promise<number> {
  const parsed = parseScriptArgs<Flags>(
    argv,
    {
      context: { type: 'string', short: 'c', multiple: true },
      app: { type: 'string' },
      docker: { type: 'string' },
      'endpoint-url': { type: 'string' },
      'toolkit-stack-name': { type: 'string' },
    },
    USAGE,
  );
  if ('exitCode' in parsed) return parsed.exitCode;
  const flags = parsed.values;
  let target;
  try {
    target = loadDeployTarget(flags.context ?? [], deps.cdkJsonPath);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${USAGE}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      // The deploy's synth would stop at the same place.
      console.log(`FAIL config: ${err.message.replace(/\n/g, '; ')}`);
      return 1;
    }
    throw err;
  }
  const { config, context } = target;
  const ctx: PreflightContext = {
    config,
    context,
    aws: deps.clients ?? new AwsClients({ region: config.region, endpoint: flags['endpoint-url'] }),
    // CDK_DOCKER is the variable the CDK CLI itself reads for the docker executable.
    docker: flags.docker ?? (deps.env ?? process.env).CDK_DOCKER ?? 'docker',
    appDir: flags.app,
    toolkitStackName: flags['toolkit-stack-name'] ?? 'CDKToolkit',
  };
  console.log(`preflight for PhenomChat-${config.envName} (${config.account ? `account ${config.account}, ` : ''}region ${config.region})`);
  const results = await runChecks(CHECKS, ctx, (r) => console.log(formatResult(r)));
  const failed = results.filter((r) => r.status === 'fail').length;
  if (failed) {
    console.log(`${failed} of ${results.length} checks failed: fix ${failed === 1 ? 'it' : 'them'}, then run \`npm run preflight -- -c env=${config.envName}\` again`);
    return 1;
  }
  console.log(`all ${results.length} checks passed: \`npx cdk deploy -c env=${config.envName}\``);
  return 0;
}

if (require.main === module) runMain(() => main(process.argv.slice(2)));
