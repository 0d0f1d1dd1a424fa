// One module owns the equity chart of a run: created once, fed with setPoints, disposed.

import {
  ColorType,
  createChart,
  LineSeries,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from "lightweight-charts";
import type { EquityPoint } from "../state/results";

export class EquityChart {
  private readonly chart: IChartApi;
  private readonly line: ISeriesApi<"Line">;

  constructor(element: HTMLElement) {
    this.chart = createChart(element, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: "#131722" },
        textColor: "#c7ccd6",
        attributionLogo: false,
      },
      grid: { vertLines: { color: "#1e2230" }, horzLines: { color: "#1e2230" } },
      timeScale: { timeVisible: true, secondsVisible: false, borderColor: "#2a2e39" },
      rightPriceScale: { borderColor: "#2a2e39" },
    });
    this.line = this.chart.addSeries(LineSeries, {
      color: "#2962ff",
      lineWidth: 2,
      priceFormat: { type: "price", precision: 2, minMove: 0.01 },
    });
  }

  setPoints(points: EquityPoint[]): void {
    this.line.setData(
      points.map((point) => ({ time: point.time as UTCTimestamp, value: point.value })),
    );
    this.chart.timeScale().fitContent();
  }

  dispose(): void {
    this.chart.remove();
  }
}
