export { SYNAPSE_WORKER_KINDS, MAX_WORKERS_PER_KIND } from './layout';
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
export { ALB_CONDITION_VALUES_PER_RULE, albPathPatternMatches, synapseWorkerRouteGroups, SYNAPSE_WORKER_ROUTES } from './routes';
export type { SynapseWorkerRouteGroup } from './routes';
export { parseSynapseVersion, synapseImageVersion, synapseVersionFromDockerfile, synapseWorkerFeatures } from './version';
export type { SynapseVersion, SynapseWorkerFeatures } from './version';
