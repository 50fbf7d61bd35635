// The reusable load generator: event batches, HTTP drivers, latency and probe measurement.
export { numberOption, parseArgs, usage, type OptionSpec } from './args';
export { BatchFactory, decimalFromMilli, PROBE_EVENT_TYPE, type BatchFactoryOptions, type GeneratedBatch } from './event-batches';
export {
  HttpLoad,
  type ClosedLoopOptions,
  type HttpLoadOptions,
  type LoadResult,
  type OpenLoopOptions,
  type ProbeOptions,
} from './http-load';
export { LatencyRecorder, round, type LatencySummary } from './latency';
export { ProbeTracker, type ProbeSummary, type VisibilityCheck } from './probes';
export { seededRandom, ZipfSampler } from './zipf';
