// Keeps the Services' virtual IPs stable across restarts: the allocation is written to
// `virtual-ips.json` in the data directory (temp file, fsync, rename) before anything uses it.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/log.js';
import { allocateVirtualIps, type VirtualIps } from './allocate.js';

export const VIRTUAL_IPS_FILE = 'virtual-ips.json';

interface FileContent {
  version: 1;
  vips: Record<string, string>;
}

export class VirtualIpAllocator {
  #vips: VirtualIps;
  readonly #file: string | undefined;

  /** `dataDir` undefined: in memory only (tests). A file that is not valid JSON is an error, not silently replaced. */
  constructor(
    dataDir: string | undefined,
    private readonly logger?: Logger,
  ) {
    this.#file = dataDir === undefined ? undefined : path.join(dataDir, VIRTUAL_IPS_FILE);
    this.#vips = this.#file === undefined ? new Map() : load(this.#file);
  }

  get current(): VirtualIps {
    return this.#vips;
  }

  /** The allocation for `serviceKeys` (`ns/name`) in `range`; persisted before it is returned when it changed. */
  update(serviceKeys: readonly string[], range: string): VirtualIps {
    const r = allocateVirtualIps(this.#vips, serviceKeys, range);
    if (r.unallocated.length > 0) this.logger?.warn({ range, services: r.unallocated }, 'virtual IP range is full; these Services get no virtual IP');
    if (!r.changed) return this.#vips;
    if (this.#file !== undefined) save(this.#file, r.vips);
    this.#vips = r.vips;
    return r.vips;
  }
}

function load(file: string): VirtualIps {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw e;
  }
  let content: FileContent;
  try {
    content = JSON.parse(text) as FileContent;
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}); fix or remove it (Services then get new virtual IPs)`);
  }
  if (content?.version !== 1 || typeof content.vips !== 'object' || content.vips === null) throw new Error(`${file}: expected {"version":1,"vips":{...}}`);
  return new Map(Object.entries(content.vips).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function save(file: string, vips: VirtualIps): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify({ version: 1, vips: Object.fromEntries(vips) }, null, 1) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
