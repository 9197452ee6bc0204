import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readSecretJson, readSecretString } from '../../../lambda/shared/secret-string';
import { standInAwsEnv } from '../../support/aws/sdk-env';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../support/aws/secrets-manager-stand-in';

/**
 * Where a function's secrets come from: the Parameters and Secrets extension's loopback API when its
 * layer is attached (the stand-in answers as the extension does), otherwise Powertools and the SDK
 * (the same stand-in, as Secrets Manager's JSON API).
 */
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-test-db-AbCdEf';
let secrets: SecretsManagerStandIn;
const savedEnv = { ...process.env };

beforeAll(async () => {
  secrets = await startSecretsManagerStandIn();
});
afterAll(async () => {
  process.env = savedEnv;
  await secrets.close();
});

describe('through the Parameters and Secrets extension', () => {
  it('reads the current value with the session token, without the SDK, and sees a rotated value', async () => {
    secrets.put(ARN, JSON.stringify({ username: 'chat', password: 'first' }));
    await expect(readSecretJson(ARN, {}, secrets.extensionEnv)).resolves.toEqual({ username: 'chat', password: 'first' });
    secrets.put(ARN, JSON.stringify({ username: 'chat', password: 'rotated' }));
    await expect(readSecretJson(ARN, {}, secrets.extensionEnv)).resolves.toEqual({ username: 'chat', password: 'rotated' });
    expect(secrets.extensionRequests.filter((id) => id === ARN)).toHaveLength(2);
    expect(secrets.requests).toEqual([]);
  });

  it('says what the extension answered when it refuses: a wrong session token, an unknown secret', async () => {
    secrets.put(ARN, 'value');
    await expect(readSecretString(ARN, {}, { ...secrets.extensionEnv, AWS_SESSION_TOKEN: 'another' })).rejects.toThrow(/extension answered 401 for .*phenom-test-db/);
    await expect(readSecretString(`${ARN}-missing`, {}, secrets.extensionEnv)).rejects.toThrow(/answered 400 .*can't find the specified secret/);
  });

  it('refuses settings it cannot use, before calling anything', async () => {
    const before = secrets.extensionRequests.length;
    await expect(readSecretString(ARN, {}, { ...secrets.extensionEnv, PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '27x3' })).rejects.toThrow(/must be a port number, got "27x3"/);
    await expect(readSecretString(ARN, {}, { PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: secrets.extensionEnv.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT })).rejects.toThrow(/AWS_SESSION_TOKEN is not set/);
    expect(secrets.extensionRequests.length).toBe(before);
  });

  it('refuses an empty value, a body that is not GetSecretValue JSON, and an extension that is not listening', async () => {
    secrets.put(ARN, '');
    await expect(readSecretString(ARN, {}, secrets.extensionEnv)).rejects.toThrow(/has no string value/);
    secrets.put(ARN, 'not json');
    await expect(readSecretJson(ARN, {}, secrets.extensionEnv)).rejects.toThrow(/does not hold JSON/);

    const garbage = createServer((_req, res) => res.end('<html>'));
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const port = String((garbage.address() as AddressInfo).port);
    await expect(readSecretString(ARN, {}, { PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: port, AWS_SESSION_TOKEN: 't' })).rejects.toThrow(/not GetSecretValue JSON/);
    garbage.closeAllConnections();
    await new Promise((resolve) => garbage.close(resolve));
    await expect(readSecretString(ARN, {}, { PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: port, AWS_SESSION_TOKEN: 't' })).rejects.toThrow(/extension did not answer/);
  });
});

describe('forceFetch', () => {
  it('reads Secrets Manager through the SDK even with the extension attached, whose cache cannot be skipped', async () => {
    Object.assign(process.env, standInAwsEnv({ secretsManager: secrets.url }));
    secrets.put(`${ARN}-forced`, 'current');
    const throughExtension = secrets.extensionRequests.length;
    await expect(readSecretString(`${ARN}-forced`, { forceFetch: true }, secrets.extensionEnv)).resolves.toBe('current');
    expect(secrets.extensionRequests.length).toBe(throughExtension);
    expect(secrets.requests).toContain(`${ARN}-forced`);
  });
});

describe('without the extension', () => {
  it('reads through Powertools and the SDK (Secrets Manager JSON API)', async () => {
    Object.assign(process.env, standInAwsEnv({ secretsManager: secrets.url }));
    secrets.put(`${ARN}-sdk`, 'from the sdk');
    await expect(readSecretString(`${ARN}-sdk`, { forceFetch: true }, {})).resolves.toBe('from the sdk');
    expect(secrets.requests).toContain(`${ARN}-sdk`);
  });
});
