import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSynapseVersion, synapseImageVersion, synapseVersionFromDockerfile, synapseWorkerFeatures } from '../../../../lib/chat-synapse/workers';

describe('Synapse version switches', () => {
  it('reads the release the image pins from docker/synapse/Dockerfile', () => {
    const dockerfile = readFileSync(join(__dirname, '../../../../docker/synapse/Dockerfile'), 'utf8');
    const pinned = /^FROM matrixdotorg\/synapse:v(\d+)\.(\d+)\.(\d+)$/m.exec(dockerfile)!;
    expect(synapseImageVersion()).toEqual({ major: Number(pinned[1]), minor: Number(pinned[2]), patch: Number(pinned[3]) });
    expect(synapseVersionFromDockerfile('# x\nFROM matrixdotorg/synapse:v1.67.0\nRUN true\n')).toEqual({ major: 1, minor: 67, patch: 0 });
  });

  it('refuses a Dockerfile without a pinned Synapse tag', () => {
    expect(() => synapseVersionFromDockerfile('FROM matrixdotorg/synapse:latest\n')).toThrow('no FROM matrixdotorg/synapse:vX.Y.Z line');
    expect(() => parseSynapseVersion('1.142')).toThrow('a Synapse version must look like 1.142.0, got "1.142"');
  });

  it.each([
    ['1.67.0', false, false],
    ['1.83.1', false, false],
    ['1.84.0', true, true],
    ['1.142.0', true, true],
    ['2.0.0', true, true],
  ])('Synapse %s: main in instance_map %s, Redis TLS %s', (v, mainInInstanceMap, redisTls) => {
    expect(synapseWorkerFeatures(parseSynapseVersion(v))).toEqual({ mainInInstanceMap, redisTls });
  });
});
