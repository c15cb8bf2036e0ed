// The workload's certificate, key and trust bundle on disk, for gRPC's `file_watcher`
// certificate provider: rewritten whenever the identity changes (a renewal at half-life, a new
// trust bundle), each file atomically. The trust bundle is written before the certificate, so
// a certificate from a new root never sits beside roots that do not include it.
import { mkdir, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../common/atomic-file.js';
import type { AgentFiles } from './bootstrap-file.js';

/** What the files hold: the PEM chain (leaf first), its private key, and the mesh roots. */
export interface WorkloadMaterial {
  chainPem: string;
  keyPem: string;
  rootsPem: string;
}

export class CertFiles {
  #written: { workload: string; roots: string } = { workload: '', roots: '' };
  #queue: Promise<void> = Promise.resolve();

  constructor(private readonly files: Pick<AgentFiles, 'certsDir' | 'workload' | 'roots'>) {}

  /** True once both files have been written. */
  get written(): boolean {
    return this.#written.workload !== '' && this.#written.roots !== '';
  }

  /** Writes what changed (one write at a time, in call order); rejects with the file and the reason. */
  write(m: WorkloadMaterial): Promise<void> {
    const run = this.#queue.then(() => this.#write(m));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #write(m: WorkloadMaterial): Promise<void> {
    const workload = `${m.chainPem.trimEnd()}\n${m.keyPem.trimEnd()}\n`;
    const roots = `${m.rootsPem.trimEnd()}\n`;
    await mkdir(this.files.certsDir, { recursive: true, mode: 0o700 });
    if (roots !== this.#written.roots) {
      await writeOrSay(this.files.roots, roots);
      this.#written.roots = roots;
    }
    if (workload !== this.#written.workload) {
      await writeOrSay(this.files.workload, workload);
      this.#written.workload = workload;
    }
  }

  /** Removes the file holding the private key (after the app stopped); the roots stay. */
  async removeKey(): Promise<void> {
    await this.#queue;
    await rm(this.files.workload, { force: true });
    this.#written.workload = '';
  }
}

async function writeOrSay(file: string, text: string): Promise<void> {
  try {
    // Owner only: the app runs as the agent's user; the key must be readable by nobody else.
    await writeFileAtomic(file, text, 0o600);
  } catch (e) {
    throw new Error(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
