// The four prom-client classes the proxy uses, loaded from their own files: the package
// index also loads default metrics and the Pushgateway (https), which the proxy never uses
// (measured: an idle proxy at 51.8 MB RSS instead of 55.0 MB). prom-client 15 has no
// `exports` map, so these paths are public; the metrics tests fail if that changes.
import { createRequire } from 'node:module';
import type { Counter as CounterClass, Gauge as GaugeClass, Histogram as HistogramClass, Registry as RegistryClass } from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof RegistryClass;
export const Counter = require('prom-client/lib/counter') as typeof CounterClass;
export const Histogram = require('prom-client/lib/histogram') as typeof HistogramClass;
export const Gauge = require('prom-client/lib/gauge') as typeof GaugeClass;
export type Registry = RegistryClass;
export type Counter<T extends string> = CounterClass<T>;
export type Histogram<T extends string> = HistogramClass<T>;
export type Gauge<T extends string> = GaugeClass<T>;
