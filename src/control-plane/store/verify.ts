// `trellis store verify`: reads a data dir's store files the way opening the store does, changes
// nothing, takes no lock, and reports every problem with its file and offset.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { decodeBatchLog, LOG_FILE, type LogContents } from './batch-log.js';
import type { StoreError } from './errors.js';
import { decodeFrames, intactFrameAfter } from './log-decode.js';
import { replayLog } from './replay.js';
import { readSnapshot, SNAPSHOT_FILE } from './snapshot.js';

export interface StoreProblem {
  file: string;
  offset?: number;
  /** One line: what is wrong there. */
  message: string;
}

export interface StoreVerifyReport {
  /** True when the store would open (a torn tail is cut then, and is no problem). */
  ok: boolean;
  /** The revision the store would open at (when ok). */
  revision?: number;
  snapshotRevision: number;
  /** Intact records of the log before any damage. */
  logRecords: number;
  /** Resources the store would hold (when ok). */
  resources?: number;
  /** An unfinished last write that the next start cuts. */
  tornTail?: { file: string; offset: number; bytes: number; reason: string };
  problems: StoreProblem[];
  /** Intact records after the first damage: what `repair --truncate-at-corruption` would drop. */
  recordsAfterDamage: number;
}

const problemOf = (e: StoreError): StoreProblem => ({ file: e.file ?? '', ...(e.offset !== undefined ? { offset: e.offset } : {}), message: e.summary ?? e.message });

/** Every further damaged region of the log after the first one, and the intact records between them. */
function laterDamage(data: Buffer, file: string, firstDamage: number): { problems: StoreProblem[]; intact: number } {
  const problems: StoreProblem[] = [];
  let intact = 0;
  for (let next = intactFrameAfter(data, firstDamage); next !== undefined && problems.length < 100;) {
    const decoded = decodeFrames(data, next);
    intact += decoded.frames.length;
    if (!decoded.tail) break;
    problems.push({ file, offset: decoded.tail.offset, message: `${decoded.tail.torn ? 'an unfinished write' : 'more damage'}: ${decoded.tail.reason}` });
    next = intactFrameAfter(data, decoded.tail.offset);
  }
  return { problems, intact };
}

/** Checks the store files of `dataDir` without changing anything. */
export async function verifyStore(dataDir: string): Promise<StoreVerifyReport> {
  const snapshotFile = path.join(dataDir, SNAPSHOT_FILE);
  const logFile = path.join(dataDir, LOG_FILE);
  const problems: StoreProblem[] = [];
  const snapshot = await readSnapshot(snapshotFile);
  if (!snapshot.ok) problems.push(problemOf(snapshot.error));
  const data = await fsp.readFile(logFile).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? Buffer.alloc(0) : e));
  if (data instanceof Error) {
    problems.push({ file: logFile, message: `cannot read it: ${data.message}` });
    return { ok: false, snapshotRevision: snapshot.ok ? (snapshot.value?.revision ?? 0) : 0, logRecords: 0, problems, recordsAfterDamage: 0 };
  }
  const decoded = decodeBatchLog(data, logFile);
  let contents: LogContents | undefined;
  let recordsAfterDamage = 0;
  if (decoded.ok) contents = decoded.value;
  else {
    problems.push(problemOf(decoded.error));
    const later = laterDamage(data, logFile, decoded.error.offset ?? 0);
    problems.push(...later.problems);
    recordsAfterDamage = later.intact;
  }
  const report: StoreVerifyReport = {
    ok: false,
    snapshotRevision: snapshot.ok ? (snapshot.value?.revision ?? 0) : 0,
    logRecords: contents?.records.length ?? decodeFrames(data).frames.length,
    problems,
    recordsAfterDamage,
    ...(contents?.tornTail ? { tornTail: { file: logFile, offset: contents.tornTail.offset, bytes: contents.tornTail.bytes, reason: contents.tornTail.reason } } : {}),
  };
  if (!snapshot.ok || !contents) return report;
  const replayed = replayLog(snapshot.value, contents.records, logFile);
  if (!replayed.ok) {
    problems.push(problemOf(replayed.error));
    return report;
  }
  return { ...report, ok: true, revision: replayed.value.revision, resources: replayed.value.state.size };
}
