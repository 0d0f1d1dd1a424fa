// One module owns the candle chart: it is created once, fed with setHistory / prependHistory /
// pushBars, and disposed. The data feed lives elsewhere (STYLE.md rule 14).

import {
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  LineSeries,
  LineStyle,
  type CandlestickData,
  type HistogramData,
  type IChartApi,
  type ISeriesApi,
  type IPriceLine,
  type ISeriesMarkersPluginApi,
  type SeriesMarker,
  type LogicalRange,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import type { TradeMark } from "../state/results";
import { barTimeAt, emptyBars, lastPrice, prependBars, type ChartBars } from "./bars";
import { exitLanes, type ExitKind, type TradeLevels } from "./exit-lines";

/** A level of the open position (replay): drawn across the chart until the position closes. */
export interface OpenExit {
  kind: ExitKind | "trailing_stop";
  price: number;
}

const EXIT_COLOURS: Record<OpenExit["kind"], string> = {
  stop_loss: "#ef5350",
  take_profit: "#26a69a",
  trailing_stop: "#ffb74d",
};
const EXIT_TITLES: Record<OpenExit["kind"], string> = {
  stop_loss: "SL",
  take_profit: "TP",
  trailing_stop: "TS",
};

export type NearStartListener = () => void;

/** How close (in bars) to the oldest loaded bar the view may get before more history is asked. */
const PAGE_AHEAD_BARS = 20;

export class CandleChart {
  private readonly chart: IChartApi;
  private candles: ISeriesApi<"Candlestick">;
  private readonly volumes: ISeriesApi<"Histogram">;
  private readonly element: HTMLElement;
  private bars: ChartBars = emptyBars();
  // Created with the first marks. lightweight-charts' markers plugin asks for a full update of
  // the chart on every change of its series' data, even with no markers and even once
  // detached: each bar of a replay then costs a relayout and a second repaint. So a chart
  // without marks has no plugin, and the candles are a new series when the marks go away.
  private markers: ISeriesMarkersPluginApi<Time> | null = null;
  private marks: TradeMark[] = [];
  private levels: TradeLevels[] = [];
  private readonly laneSeries: Record<ExitKind, ISeriesApi<"Line">[]> = {
    stop_loss: [],
    take_profit: [],
  };
  private openExits: OpenExit[] = [];
  private openExitLines: IPriceLine[] = [];
  private historyVersion = 0; // told on the element: tests and benches wait for a new page
  private readonly nearStartListeners = new Set<NearStartListener>();
  private readonly onRange = (range: LogicalRange | null): void => {
    if (range !== null && range.from < PAGE_AHEAD_BARS && this.bars.candles.length > 0) {
      for (const listener of this.nearStartListeners) listener();
    }
  };

  constructor(element: HTMLElement) {
    this.element = element;
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
      crosshair: { mode: 0 },
    });
    this.volumes = this.chart.addSeries(HistogramSeries, {
      priceScaleId: "volume",
      priceFormat: { type: "volume" },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    // candles in the upper part, volume in the bottom fifth, so that they do not overlap
    this.chart.priceScale("right").applyOptions({ scaleMargins: { top: 0.08, bottom: 0.24 } });
    this.chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    this.candles = this.addCandles();
    this.chart.timeScale().subscribeVisibleLogicalRangeChange(this.onRange);
  }

  private addCandles(): ISeriesApi<"Candlestick"> {
    return this.chart.addSeries(CandlestickSeries, {
      upColor: "#26a69a",
      downColor: "#ef5350",
      wickUpColor: "#26a69a",
      wickDownColor: "#ef5350",
      borderVisible: false,
      priceFormat: { type: "price", precision: 5, minMove: 0.00001 },
    });
  }

  /** Show buys and sells (a run's trades, replay fills) on the bars that hold them. */
  setMarks(marks: TradeMark[]): void {
    this.marks = marks;
    this.drawMarks();
  }

  /** Draw the stop-loss / take-profit levels of a run's trades from entry to exit. */
  setTradeLevels(levels: TradeLevels[]): void {
    this.levels = levels;
    this.drawLevels();
  }

  /** The open position's exit levels as price lines; an empty list removes them. */
  setOpenExits(exits: OpenExit[]): void {
    for (const line of this.openExitLines) this.candles.removePriceLine(line);
    this.openExits = exits;
    this.openExitLines = exits.map((exit) =>
      this.candles.createPriceLine({
        price: exit.price,
        color: EXIT_COLOURS[exit.kind],
        lineWidth: 1,
        lineStyle: LineStyle.Dashed,
        axisLabelVisible: true,
        title: EXIT_TITLES[exit.kind],
      }),
    );
    const text = exits.map((exit) => `${exit.kind}:${exit.price}`).join(" ");
    if (text) this.element.setAttribute("data-open-exits", text);
    else this.element.removeAttribute("data-open-exits");
  }

  /** Add one mark (a fill during replay). */
  addMark(mark: TradeMark): void {
    this.marks.push(mark);
    this.drawMarks();
  }

  /** Centre the view on `time` (a trade clicked in the list). */
  scrollTo(time: number, barsAround = 60): void {
    const index = this.bars.candles.findIndex((bar) => bar.time >= time);
    if (index < 0) return;
    this.chart
      .timeScale()
      .setVisibleLogicalRange({ from: index - barsAround, to: index + barsAround });
  }

  private drawMarks(): void {
    const markers: SeriesMarker<Time>[] = [];
    for (const mark of this.marks) {
      const time = barTimeAt(this.bars.candles, mark.time);
      if (time === null) continue;
      const buy = mark.kind === "buy";
      markers.push({
        time: time as UTCTimestamp,
        position: buy ? "belowBar" : "aboveBar",
        shape: buy ? "arrowUp" : "arrowDown",
        color: buy ? "#26a69a" : "#ef5350",
        text: mark.text,
      });
    }
    markers.sort((a, b) => (a.time as number) - (b.time as number));
    if (this.markers !== null) this.markers.setMarkers(markers);
    else if (markers.length > 0) this.markers = createSeriesMarkers(this.candles, markers);
  }

  private drawLevels(): void {
    const times = this.bars.candles.map((bar) => bar.time as number);
    let segments = 0;
    for (const kind of ["stop_loss", "take_profit"] as const) {
      const drawn = exitLanes(this.levels, times, kind);
      segments += drawn.segments;
      const pool = this.laneSeries[kind];
      while (pool.length < drawn.lanes.length) {
        pool.push(
          this.chart.addSeries(LineSeries, {
            color: EXIT_COLOURS[kind],
            lineWidth: 1,
            lineStyle: LineStyle.Dashed,
            lastValueVisible: false,
            priceLineVisible: false,
            crosshairMarkerVisible: false,
            pointMarkersVisible: false,
          }),
        );
      }
      pool.forEach((series, lane) => series.setData(drawn.lanes[lane] ?? []));
    }
    this.element.setAttribute("data-exit-segments", String(segments));
  }

  /** Replace everything shown with `bars` and show the newest of them. */
  setHistory(bars: ChartBars, precision = 5): void {
    this.bars = bars;
    if (this.markers !== null && this.marks.length === 0) {
      // drop the markers plugin with the series it is stuck to (see `markers`)
      this.chart.removeSeries(this.candles); // its price lines go with it
      this.openExitLines = [];
      this.candles = this.addCandles();
      this.markers = null;
      this.setOpenExits(this.openExits);
    }
    this.candles.applyOptions({
      priceFormat: { type: "price", precision, minMove: 10 ** -precision },
    });
    this.candles.setData(bars.candles);
    this.volumes.setData(bars.volumes);
    this.chart.timeScale().resetTimeScale();
    this.drawMarks();
    this.drawLevels();
    this.markLastPrice();
    this.markHistoryVersion();
  }

  /** Add older bars in front, keeping the bars the user looks at where they are. */
  prependHistory(older: ChartBars): number {
    const before = this.bars.candles.length;
    const range = this.chart.timeScale().getVisibleLogicalRange();
    this.bars = prependBars(this.bars, older);
    const added = this.bars.candles.length - before;
    if (added === 0) return 0;
    this.candles.setData(this.bars.candles);
    this.volumes.setData(this.bars.volumes);
    this.drawMarks();
    this.drawLevels();
    if (range !== null) {
      this.chart
        .timeScale()
        .setVisibleLogicalRange({ from: range.from + added, to: range.to + added });
    }
    this.markHistoryVersion();
    return added;
  }

  /** Add new bars (oldest first); a bar with the newest bar's time updates it. The chart is
   * told bar by bar (`update`, not `setData`), the last price once. */
  pushBars(
    rows: { candle: CandlestickData<UTCTimestamp>; volume: HistogramData<UTCTimestamp> }[],
  ): void {
    for (const { candle, volume } of rows) {
      const last = this.bars.candles[this.bars.candles.length - 1];
      if (last !== undefined && last.time === candle.time) {
        this.bars.candles[this.bars.candles.length - 1] = candle;
        this.bars.volumes[this.bars.volumes.length - 1] = volume;
      } else {
        this.bars.candles.push(candle);
        this.bars.volumes.push(volume);
      }
      this.candles.update(candle);
      this.volumes.update(volume);
    }
    this.markLastPrice();
  }

  get count(): number {
    return this.bars.candles.length;
  }

  get firstTime(): number | null {
    return this.bars.candles[0]?.time ?? null;
  }

  /** Be told when the user scrolls near the oldest loaded bar; returns the unsubscribe. */
  onNearStart(listener: NearStartListener): () => void {
    this.nearStartListeners.add(listener);
    return () => this.nearStartListeners.delete(listener);
  }

  dispose(): void {
    this.nearStartListeners.clear();
    this.chart.timeScale().unsubscribeVisibleLogicalRangeChange(this.onRange);
    this.chart.remove();
  }

  private markHistoryVersion(): void {
    this.historyVersion += 1;
    this.element.setAttribute("data-history-version", String(this.historyVersion));
  }

  private markLastPrice(): void {
    const price = lastPrice(this.bars);
    if (price === null) this.element.removeAttribute("data-last-price");
    else this.element.setAttribute("data-last-price", String(price));
  }
}
