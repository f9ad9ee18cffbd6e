// Counters and histograms for the hot path that the prom-client Registry prints like its own.
// prom-client's labelled children hash a label object, validate labels and index buckets by float
// keys on every call (a few µs a request over four metrics); these children are plain objects
// found once per label set, so a request costs an increment and a short bucket scan. Exposition
// (Registry.metrics()) sees the same name, help, type and values as prom-client's own metrics.
import type { Metric, Registry } from 'prom-client';

type Labels = Record<string, string | number>;

interface ValuePair {
  readonly value: number;
  readonly labels: Labels;
  readonly sharedLabels?: Labels;
  readonly metricName?: string;
}

interface MetricData {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly values: ValuePair[];
  readonly aggregator: 'sum';
}

export class CounterChild {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.value += by;
  }
}

/** A counter; `labels(...)` gives the child of one label set (keep it, it stays valid). */
export class FastCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly children = new Map<string, CounterChild>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    if (labelNames.length === 0) this.children.set('', new CounterChild({}));
    registry.registerMetric(this as unknown as Metric);
  }

  labels(...values: string[]): CounterChild {
    const key = values.join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      const labels: Labels = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
      child = new CounterChild(labels);
      this.children.set(key, child);
    }
    return child;
  }

  inc(by = 1): void {
    this.labels().inc(by);
  }

  get(): Promise<MetricData> {
    const values: ValuePair[] = [];
    for (const child of this.children.values()) values.push({ value: child.value, labels: child.labels });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    for (const child of this.children.values()) child.value = 0;
  }
}

export class HistogramChild {
  /** Observations per bucket (not cumulative); the last slot is above every bound (+Inf only). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Labels,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i += 1;
    const counts = this.counts;
    counts[i] = (counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

/** A histogram with at most one label (route), or none. */
export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly children = new Map<string, HistogramChild>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelName: string | null,
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    // prom-client shows an unlabelled histogram with zeros before its first observation.
    if (labelName === null) this.children.set('', new HistogramChild(buckets, {}));
    registry.registerMetric(this as unknown as Metric);
  }

  labels(value = ''): HistogramChild {
    let child = this.children.get(value);
    if (child === undefined) {
      child = new HistogramChild(this.buckets, this.labelName === null ? {} : { [this.labelName]: value });
      this.children.set(value, child);
    }
    return child;
  }

  observe(value: number): void {
    this.labels().observe(value);
  }

  /** What Registry.metrics() prints: `le` first, then the child's own label, as prom-client does. */
  getForPromString(): Promise<MetricData> {
    const values: ValuePair[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const child of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i += 1) {
        cumulative += child.counts[i] as number;
        values.push({ value: cumulative, labels: { le: this.buckets[i] as number }, sharedLabels: child.labels, metricName: bucketName });
      }
      values.push({ value: child.count, labels: { le: '+Inf' }, sharedLabels: child.labels, metricName: bucketName });
      values.push({ value: child.sum, labels: {}, sharedLabels: child.labels, metricName: `${this.name}_sum` });
      values.push({ value: child.count, labels: {}, sharedLabels: child.labels, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** The JSON form (Registry.getMetricsAsJSON): every label in `labels`. */
  async get(): Promise<MetricData> {
    const data = await this.getForPromString();
    return { ...data, values: data.values.map((pair) => ({ value: pair.value, labels: { ...pair.labels, ...pair.sharedLabels }, metricName: pair.metricName })) };
  }

  reset(): void {
    for (const child of this.children.values()) {
      child.counts.fill(0);
      child.sum = 0;
      child.count = 0;
    }
  }
}
