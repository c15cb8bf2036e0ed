// A component logger per module (STYLE 13): JSON lines on stderr via pino, quiet by default.
//   TRELLIS_LOG_LEVEL=info|debug|...  level for every component (default: warn)
//   TRELLIS_LOG=proxy.*,control-plane.xds  components raised to debug (`*` = all)
import pino from 'pino';

export type Logger = pino.Logger;

const base = pino({ level: 'trace', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 2, sync: true }));

const defaultLevel = process.env.TRELLIS_LOG_LEVEL ?? 'warn';
const debugPatterns = (process.env.TRELLIS_LOG ?? '')
  .split(',')
  .map((p) => p.trim())
  .filter(Boolean)
  .map((p) => new RegExp('^' + p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$'));

/** A logger for one component, e.g. `createLogger('proxy.xds-client')`. */
export function createLogger(component: string): Logger {
  const level = debugPatterns.some((re) => re.test(component)) ? 'debug' : defaultLevel;
  return base.child({ component }, { level });
}
