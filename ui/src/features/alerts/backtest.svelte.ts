// The last backtest: when each alert of the rules in force would have been pending and
// firing over the recorded data. One shared store, so the Alerts view shows it as timelines
// and the Metrics chart can shade the same stretches behind its lines.

import { alerts as api, describeUnknown } from "../../api";
import type { BacktestBand, BacktestResult } from "../../api";

export class BacktestState {
  result = $state.raw<BacktestResult | null>(null);
  running = $state(false);
  error = $state<string | null>(null);
  /** Shade the bands on the Metrics chart. */
  onChart = $state(true);

  /** Every band of the last backtest. */
  bands: readonly BacktestBand[] = $derived(this.result?.bands ?? []);
  /** The bands the Metrics chart shades (none when the user turned that off). */
  chartBands: readonly BacktestBand[] = $derived(this.onChart ? this.bands : []);

  private seq = 0;

  /** Backtests over `[startMs, endMs]`, or over everything recorded when both are null. */
  async run(startMs: number | null = null, endMs: number | null = null): Promise<void> {
    const seq = ++this.seq;
    this.running = true;
    this.error = null;
    try {
      const result = await api.backtest(startMs, endMs);
      if (seq === this.seq) this.result = result;
    } catch (e) {
      if (seq === this.seq) this.error = describeUnknown(e);
    } finally {
      if (seq === this.seq) this.running = false;
    }
  }

  /** Forgets the result (another workspace's data). */
  clear(): void {
    this.seq++;
    this.result = null;
    this.running = false;
    this.error = null;
  }
}

export const backtest = new BacktestState();

/** The last backtest's bands, for drawing (reactive: read it inside an effect or a derived). */
export const backtestBands = {
  get all(): readonly BacktestBand[] {
    return backtest.bands;
  },
  /** What a chart should shade: empty when the user turned chart bands off. */
  get forChart(): readonly BacktestBand[] {
    return backtest.chartBands;
  },
};
