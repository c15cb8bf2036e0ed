// The registry's memory across control-plane restarts: every change is written to
// `workloads.json` in the data directory, and a restarted control plane restores those
// workloads (disconnected, within a fresh grace period) before it serves xDS. Without it, the
// first proxy to reconnect would be told that Services whose proxies are not back yet have no
// endpoints, and its callers would see 503s until every proxy had reconnected.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../common/log.js';
import { writeFileAtomic } from '../store/durable-fs.js';
import type { Workload } from './workload.js';
import type { WorkloadRegistry } from './workload-registry.js';

export const WORKLOADS_FILE = 'workloads.json';

const port = z.number().int().min(1).max(65535);
const workloadSchema = z.object({
  id: z.string().min(1),
  service: z.string().min(1),
  namespace: z.string().min(1),
  labels: z.record(z.string(), z.string()),
  address: z.string().min(1),
  inbound: z.array(z.object({ port, appPort: port })),
  connected: z.boolean(),
  lastSeen: z.string(),
  transparent: z.literal(true).optional(),
});
const fileSchema = z.object({ version: z.literal(1), workloads: z.array(workloadSchema) });

/**
 * Reads the workloads a previous run left. The file is a cache of what proxies said, not
 * operator config: when it is missing or unreadable the registry starts empty (and says why).
 */
export async function readWorkloadsFile(dataDir: string, logger?: Logger): Promise<Workload[]> {
  const file = path.join(dataDir, WORKLOADS_FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') logger?.warn({ file, err: (e as Error).message }, 'cannot read the registered workloads; starting with none');
    return [];
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    logger?.warn({ file, err: (e as Error).message }, 'the registered workloads file is not valid JSON; starting with none');
    return [];
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    logger?.warn({ file, field: issue.path.join('.'), reason: issue.message }, 'the registered workloads file does not hold {"version":1,"workloads":[...]}; starting with none');
    return [];
  }
  return parsed.data.workloads;
}

/**
 * Keeps `workloads.json` equal to the registry: writes after every change, one write at a
 * time, the last state winning (changes that arrive during a write coalesce into the next).
 */
export class RegistryFile {
  readonly #file: string;
  readonly #registry: WorkloadRegistry;
  readonly #logger: Logger | undefined;
  readonly #unsubscribe: () => void;
  #writing: Promise<void> | undefined;
  #dirty = false;

  constructor(dataDir: string, registry: WorkloadRegistry, logger?: Logger) {
    this.#file = path.join(dataDir, WORKLOADS_FILE);
    this.#registry = registry;
    this.#logger = logger;
    this.#unsubscribe = registry.onChange(() => this.#schedule());
  }

  /** Stops following the registry and waits until its last state is on disk. */
  async close(): Promise<void> {
    this.#unsubscribe();
    await this.flush();
  }

  /** Resolves once every change made so far is written. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  #schedule(): void {
    this.#dirty = true;
    if (this.#writing) return;
    this.#writing = (async () => {
      while (this.#dirty) {
        this.#dirty = false;
        const body = JSON.stringify({ version: 1, workloads: this.#registry.list() }, null, 2);
        try {
          await writeFileAtomic(this.#file, Buffer.from(`${body}\n`));
        } catch (e) {
          // Only the restart gap is at stake; the mesh keeps running on the registry in memory.
          this.#logger?.warn({ file: this.#file, err: (e as Error).message }, 'cannot save the registered workloads');
        }
      }
      this.#writing = undefined;
    })();
  }
}
