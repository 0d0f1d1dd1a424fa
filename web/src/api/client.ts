// The one place the browser talks to the server. The access token travels as a cookie that the
// server set when the page was first opened, so requests here carry no secret of their own.

import type {
  BarsPage,
  Dataset,
  DetectedFormat,
  ErrorBody,
  ImportOptions,
  ImportProgress,
  ImportSummary,
  RunOutcome,
  RunProgress,
  RunRequest,
  RunTable,
  SavedRun,
  SourceFormat,
} from "./types";

/** A refusal from the server, with its status and structured body. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: ErrorBody;

  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

type Fetch = typeof fetch;
type EventSourceFactory = (url: string) => EventSource;
/** POSTs a form and reports the bytes sent; `fetch` cannot report upload progress. */
export type Uploader = (
  url: string,
  body: FormData,
  onSent: (sent: number, total: number) => void,
) => Promise<Response>;

/** The browser's uploader: XMLHttpRequest, for its upload progress events. */
export const xhrUpload: Uploader = (url, body, onSent) =>
  new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onSent(event.loaded, event.total);
    });
    request.addEventListener("load", () =>
      resolve(new Response(request.responseText || null, { status: request.status })),
    );
    request.addEventListener("error", () => reject(new Error("The upload failed.")));
    request.send(body);
  });

export interface BarsQuery {
  symbol: string;
  timeframe: string;
  side?: string;
  to?: number; // UTC epoch seconds, exclusive
  limit?: number;
}

export class ApiClient {
  private readonly fetchImpl: Fetch;
  private readonly openEvents: EventSourceFactory;
  private readonly upload: Uploader;

  constructor(
    fetchImpl: Fetch = (input, init) => fetch(input, init),
    openEvents: EventSourceFactory = (url) => new EventSource(url),
    upload: Uploader = xhrUpload,
  ) {
    this.fetchImpl = fetchImpl;
    this.openEvents = openEvents;
    this.upload = upload;
  }

  datasets(): Promise<Dataset[]> {
    return this.json<Dataset[]>("/api/datasets");
  }

  formats(): Promise<SourceFormat[]> {
    return this.json<SourceFormat[]>("/api/formats");
  }

  /**
   * Detect a text file's format from its first lines (up to `sampleBytes`, cut at a line end).
   * Compressed and Parquet files are not sampled: they resolve to null and are detected on import.
   */
  async detectFormat(
    file: File,
    symbol: string,
    sampleBytes = 256 * 1024,
  ): Promise<DetectedFormat | null> {
    if (!/\.(csv|txt|tsv|tab|dat)$/i.test(file.name)) return null;
    let text = await file.slice(0, sampleBytes).text();
    if (file.size > sampleBytes) text = text.slice(0, text.lastIndexOf("\n") + 1);
    const form = new FormData();
    form.set("sample", new File([text], file.name, { type: "text/csv" }));
    if (symbol) form.set("symbol", symbol);
    return this.json<DetectedFormat>("/api/formats/detect", { method: "POST", body: form });
  }

  timeframes(): Promise<string[]> {
    return this.json<string[]>("/api/timeframes");
  }

  removeDataset(symbol: string, kind?: string): Promise<unknown> {
    const query = kind ? `?kind=${encodeURIComponent(kind)}` : "";
    return this.json(`/api/datasets/${encodeURIComponent(symbol)}${query}`, { method: "DELETE" });
  }

  bars(query: BarsQuery): Promise<BarsPage> {
    const params = new URLSearchParams({ symbol: query.symbol, timeframe: query.timeframe });
    if (query.side) params.set("side", query.side);
    if (query.to !== undefined) params.set("to", String(query.to));
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    return this.json<BarsPage>(`/api/bars?${params.toString()}`);
  }

  /** Upload a file and import it; resolves with the summary, rejects with an ApiError. */
  async importFile(
    file: File,
    options: ImportOptions,
    onProgress: (progress: ImportProgress) => void = () => undefined,
  ): Promise<ImportSummary> {
    const form = new FormData();
    form.set("file", file, file.name);
    form.set("symbol", options.symbol);
    if (options.format) form.set("format", options.format);
    if (options.side) form.set("side", options.side);
    if (options.timeframe) form.set("timeframe", options.timeframe);
    const response = await this.upload("/api/imports", form, (sent, total) =>
      onProgress({ phase: "upload", done: sent, total }),
    );
    const started = await this.parse<{ job_id: string }>(response);
    await this.followEvents(`/api/imports/${started.job_id}/events`, onProgress);
    for (;;) {
      const result = await this.json<{ state: string; summary?: ImportSummary }>(
        `/api/imports/${started.job_id}`,
      );
      if (result.summary) return result.summary;
      await new Promise((wake) => setTimeout(wake, 200)); // the stream broke early: poll
    }
  }

  /**
   * Run a backtest on the server; resolves with the saved run's id and statistics, rejects with
   * an ApiError (a strategy error carries the line of the user's code). `onStarted` receives the
   * job id, which `cancelRun` takes.
   */
  async runBacktest(
    request: RunRequest,
    onProgress: (progress: RunProgress) => void = () => undefined,
    onStarted: (jobId: string) => void = () => undefined,
  ): Promise<RunOutcome> {
    const started = await this.json<{ job_id: string }>("/api/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
    });
    onStarted(started.job_id);
    await this.followEvents(`/api/runs/jobs/${started.job_id}/events`, onProgress);
    for (;;) {
      const result = await this.json<{ state: string } & Partial<RunOutcome>>(
        `/api/runs/jobs/${started.job_id}`,
      );
      if (result.run_id !== undefined && result.stats !== undefined)
        return { run_id: result.run_id, stats: result.stats };
      await new Promise((wake) => setTimeout(wake, 200));
    }
  }

  strategies(): Promise<string[]> {
    return this.json<string[]>("/api/strategies");
  }

  strategy(name: string): Promise<{ name: string; source: string }> {
    return this.json(`/api/strategies/${encodeURIComponent(name)}`);
  }

  /** Save code under a name; rejects with an ApiError at its line when it does not load. */
  saveStrategy(name: string, source: string): Promise<unknown> {
    return this.json(`/api/strategies/${encodeURIComponent(name)}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ source }),
    });
  }

  /** The saved runs, oldest first. */
  runs(): Promise<SavedRun[]> {
    return this.json<SavedRun[]>("/api/runs");
  }

  cancelRun(jobId: string): Promise<unknown> {
    return this.json(`/api/runs/jobs/${encodeURIComponent(jobId)}`, { method: "DELETE" });
  }

  /** Load the code as a run would: its parameters, or an ApiError at the failing line. */
  checkStrategy(source: string): Promise<{ ok: boolean; parameters: Record<string, unknown> }> {
    return this.json("/api/strategies/check", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ source }),
    });
  }

  runTable(runId: string, table: string, limit = 100_000): Promise<RunTable> {
    const id = encodeURIComponent(runId);
    return this.json<RunTable>(`/api/runs/${id}/tables/${table}?limit=${limit}`);
  }

  /** Resolve when the job's event stream reports `done`; report progress on the way. */
  private followEvents(
    url: string,
    onProgress: (progress: ImportProgress | RunProgress) => void,
  ): Promise<void> {
    return new Promise((resolve) => {
      const source = this.openEvents(url);
      source.addEventListener("progress", (event) => {
        const data = JSON.parse((event as MessageEvent<string>).data) as {
          progress: RunProgress | null;
        };
        if (data.progress) onProgress(data.progress);
      });
      const finish = (): void => {
        source.close();
        resolve();
      };
      source.addEventListener("done", finish);
      // a broken stream is not the outcome: the result request that follows tells what happened
      source.addEventListener("error", finish);
    });
  }

  private async json<T>(url: string, init?: RequestInit): Promise<T> {
    return this.parse<T>(await this.fetchImpl(url, { credentials: "same-origin", ...init }));
  }

  private async parse<T>(response: Response): Promise<T> {
    const text = await response.text();
    const body: unknown = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, toErrorBody(body, response.status));
    return body as T;
  }
}

function toErrorBody(body: unknown, status: number): ErrorBody {
  if (body && typeof body === "object" && "message" in body) {
    const candidate = body as Partial<ErrorBody> & { detail?: unknown };
    return { ...candidate, error: candidate.error ?? "Error", message: String(candidate.message) };
  }
  if (body && typeof body === "object" && "detail" in body) {
    return { error: "Error", message: String((body as { detail: unknown }).detail) };
  }
  return { error: "Error", message: `The server answered ${status}.` };
}
