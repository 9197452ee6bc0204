import { Template } from 'aws-cdk-lib/assertions';
import { stackTemplate } from '../support/synth';
import { templateStrings } from '../support/template-walk';

/**
 * Decision 4 of DESIGN.md: no secret is ever in plaintext in a synthesized
 * template. Secrets reach their consumers through Secrets Manager: ECS `secrets`,
 * `{{resolve:secretsmanager:…}}` dynamic references, or a runtime read.
 */
const SECRETISH_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE|API_?KEY|CREDENTIAL|MACAROON|SIGNING_KEY)/i;
// Names that carry a pointer to a secret, not the secret itself.
const POINTER_NAME = /(_ARN|_NAME|_ID|_HEADER|_ENV|_FILE|_PATH|_URL|_SECRET_KEY_NAME)$/i;
// The Parameters and Secrets extension's own settings (AWS documents them; CDK's paramsAndSecrets sets them).
const EXTENSION_SETTING = /^(PARAMETERS_SECRETS_EXTENSION_(CACHE_ENABLED|CACHE_SIZE|HTTP_PORT|LOG_LEVEL|MAX_CONNECTIONS)|(SECRETS_MANAGER|SSM_PARAMETER_STORE)_(TIMEOUT_MILLIS|TTL))$/;
const SECRET_PROPERTY = /^(MasterUserPassword|Password|ClientSecret|SecretString|AdminSecret|PrivateKey|AuthToken|SecretAccessKey)$/;

function violations(template: Template): string[] {
  const json = template.toJSON();
  const found: string[] = [];
  for (const s of templateStrings(json.Resources)) {
    if (/AKIA[0-9A-Z]{16}/.test(s.value)) found.push(`${s.path}: looks like an AWS access key id`);
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(s.value)) found.push(`${s.path}: a private key`);
    if (/"?(password|client_secret|admin_secret|macaroon_secret_key|registration_shared_secret|form_secret)"?\s*[:=]\s*"?[^"{}\s$<]{6,}/i.test(s.value) && !/\{\{resolve:/.test(s.value)) {
      found.push(`${s.path}: an inline secret assignment`);
    }
    if (SECRET_PROPERTY.test(s.key) && !s.value.startsWith('{{resolve:secretsmanager:')) found.push(`${s.path}: ${s.key} is a literal`);
  }
  // Name/Value environment entries (ECS) and Environment.Variables maps (Lambda).
  for (const [id, res] of Object.entries(json.Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>)) {
    const props = res.Properties ?? {};
    if (res.Type === 'AWS::ECS::TaskDefinition') {
      for (const c of (props.ContainerDefinitions as Array<{ Name: string; Environment?: Array<{ Name: string; Value: unknown }> }>) ?? []) {
        for (const e of c.Environment ?? []) {
          if (SECRETISH_NAME.test(e.Name) && !POINTER_NAME.test(e.Name) && typeof e.Value === 'string' && e.Value !== '') {
            found.push(`${id} container ${c.Name}: env ${e.Name} holds a literal; pass it through ECS secrets`);
          }
        }
      }
    }
    if (res.Type === 'AWS::Lambda::Function') {
      const vars = ((props.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {}) as Record<string, unknown>;
      for (const [name, value] of Object.entries(vars)) {
        if (SECRETISH_NAME.test(name) && !POINTER_NAME.test(name) && !EXTENSION_SETTING.test(name) && typeof value === 'string' && value !== '') {
          found.push(`${id}: env ${name} holds a literal; read it from Secrets Manager at runtime`);
        }
      }
    }
  }
  return found;
}

describe.each(['development', 'production'] as const)('the %s template', (env) => {
  it('holds no plaintext secret', () => {
    expect(violations(stackTemplate(env))).toEqual([]);
  });

  it("reads the secrets of the functions on a user's path through the Parameters and Secrets extension (no SDK in their cold start)", () => {
    const functions = stackTemplate(env).findResources('AWS::Lambda::Function');
    const onExtension = Object.entries(functions)
      .filter(([, r]) => ((r.Properties as { Layers?: string[] }).Layers ?? []).some((l) => l.includes(':layer:AWS-Parameters-and-Secrets-Lambda-Extension')))
      .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(onExtension.sort()).toEqual(['ChatLinkPreviewFunction', 'ChatSharedTriggersUserProvisionerFunction']);
  });
});

describe('the scanner', () => {
  // The scanner is only worth something if it catches what it claims to.
  it('flags a literal password env var, an inline secret, and a literal MasterUserPassword', () => {
    const bad = Template.fromJSON({
      Resources: {
        Task: {
          Type: 'AWS::ECS::TaskDefinition',
          Properties: {
            ContainerDefinitions: [
              {
                Name: 'app',
                Environment: [
                  { Name: 'DB_PASSWORD', Value: 'hunter22' },
                  { Name: 'DB_SECRET_ARN', Value: 'arn:aws:secretsmanager:x' },
                ],
              },
            ],
          },
        },
        Fn: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { API_TOKEN: 'abc123', CONFIG: 'registration_shared_secret: s3cr3tvalue' } } } },
        Db: { Type: 'AWS::RDS::DBInstance', Properties: { MasterUserPassword: 'plaintext!' } },
      },
    });
    const found = violations(bad);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('env DB_PASSWORD holds a literal'),
        expect.stringContaining('env API_TOKEN holds a literal'),
        expect.stringContaining('an inline secret assignment'),
        expect.stringContaining('MasterUserPassword is a literal'),
      ]),
    );
    expect(found.join('\n')).not.toContain('DB_SECRET_ARN');
  });
});
