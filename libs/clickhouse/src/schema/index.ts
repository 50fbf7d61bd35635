import { migration0001 } from './0001_events';
import { migration0002 } from './0002_datapoints';
import { migration0003 } from './0003_usage_rollups';
import { migration0004 } from './0004_datapoint_ids';
import { migration0005 } from './0005_invoices';
import { migration0006 } from './0006_usage_daily';
import { migration0007 } from './0007_invoice_completeness';
import { migration0008 } from './0008_simulation_results';
import { migration0009 } from './0009_writer_fences';
import type { Migration } from './ddl';

export * from './ddl';

/** Every migration, in version order. A new one is a new file `NNNN_<name>.ts` appended here. */
export const MIGRATIONS: readonly Migration[] = [
  migration0001,
  migration0002,
  migration0003,
  migration0004,
  migration0005,
  migration0006,
  migration0007,
  migration0008,
  migration0009,
];
