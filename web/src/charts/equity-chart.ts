// One module owns the equity chart of a run: created once, fed with setPoints, disposed.

import {
  ColorType,
  createChart,
  AreaSeries,
  LineSeries,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from "lightweight-charts";
import { drawdownOf, type EquityPoint } from "../state/results";

export class EquityChart {
  private readonly chart: IChartApi;
  private readonly line: ISeriesApi<"Line">;
  private readonly drawdown: ISeriesApi<"Area">;
  private readonly other: ISeriesApi<"Line">;

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
    this.other = this.chart.addSeries(LineSeries, {
      color: "#ff9800",
      lineWidth: 1,
      priceFormat: { type: "price", precision: 2, minMove: 0.01 },
    });
    // the drawdown in its own pane under the equity, in percent
    this.drawdown = this.chart.addSeries(
      AreaSeries,
      {
        lineColor: "#ef5350",
        topColor: "rgba(239, 83, 80, 0.05)",
        bottomColor: "rgba(239, 83, 80, 0.4)",
        lineWidth: 1,
        invertFilledArea: true,
        priceFormat: { type: "custom", formatter: (value: number) => `${value.toFixed(2)}%` },
      },
      1,
    );
  }

  setPoints(points: EquityPoint[]): void {
    this.drawdown.setData(
      drawdownOf(points).map((point) => ({ time: point.time as UTCTimestamp, value: point.value })),
    );
    this.line.setData(
      points.map((point) => ({ time: point.time as UTCTimestamp, value: point.value })),
    );
    this.chart.timeScale().fitContent();
  }

  /** A second run's equity to compare with (an empty list removes it). */
  setComparison(points: EquityPoint[]): void {
    this.other.setData(
      points.map((point) => ({ time: point.time as UTCTimestamp, value: point.value })),
    );
  }

  dispose(): void {
    this.chart.remove();
  }
}
