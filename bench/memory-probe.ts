// Preloaded into a process under measurement (`node --import dist/bench/memory-probe.js ...`):
// on SIGURG (ignored by default, so harmless without the probe) it writes its V8 heap figures
// to $MEMORY_PROBE_DIR/PID.json, which the memory bench reads beside /proc/PID/smaps_rollup.
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';

/** What the probe writes. */
export interface MemoryProbe {
  at: number;
  usage: NodeJS.MemoryUsage;
  spaces: Record<string, { size: number; used: number }>;
}

const dir = process.env.MEMORY_PROBE_DIR;
if (dir) {
  process.on('SIGURG', () => {
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
    const file = path.join(dir, `${process.pid}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify({ at: Date.now(), usage: process.memoryUsage(), spaces } satisfies MemoryProbe));
    renameSync(`${file}.tmp`, file); // whole, so a reader never sees half a file
  });
}
