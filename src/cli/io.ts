// Where a command writes and reads: the process's streams, or buffers in tests.
import { text } from 'node:stream/consumers';

export interface CliIo {
  /** Writes to standard output (the caller adds newlines). */
  out: (text: string) => void;
  /** Writes to standard error (the caller adds newlines). */
  err: (text: string) => void;
  /** All of standard input. */
  readStdin(): Promise<string>;
}

export const processIo: CliIo = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  readStdin: () => text(process.stdin),
};
