export type { SynapseWorkerKind, SynapseWorkerLayout, SynapseRedisEndpoint } from './layout';
export {
  buildMainProcessConfig,
  buildWorkerConfig,
  renderMainProcessYaml,
  renderWorkerYaml,
  synapseWorkerProcesses,
  SYNAPSE_MAIN_DISCOVERY_NAME,
  SYNAPSE_REPLICATION_PORT,
  WORKER_PLAIN_ENV,
  WORKER_SECRET_ENV,
} from './config';
export type { SynapseWorkerProcess } from './config';
export { synapseWorkerRouteGroups, SYNAPSE_WORKER_ROUTES } from './routes';
export type { SynapseWorkerRouteGroup } from './routes';
export { parseSynapseVersion, synapseImageVersion, synapseVersionFromDockerfile, synapseWorkerFeatures } from './version';
export type { SynapseVersion, SynapseWorkerFeatures } from './version';
