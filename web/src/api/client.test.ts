import { describe, expect, it } from "vitest";
import { ApiClient, ApiError } from "./client";
import { FakeServer } from "./fake-server";

const SUMMARY = { symbol: "EURUSD", kind: "ticks", rows_kept: 3 };

describe("ApiClient.importFile", () => {
  it("uploads the form, reports progress, and returns the summary", async () => {
    const server = new FakeServer()
      .on("POST", "/api/imports", 202, { job_id: "j1", state: "running" })
      .stream("/api/imports/j1/events", [
        { type: "progress", data: { progress: { phase: "read", done: 1, total: 2 } } },
        { type: "done", data: { state: "completed", status: 200 } },
      ])
      .on("GET", "/api/imports/j1", 200, { state: "completed", summary: SUMMARY });
    const client = new ApiClient(server.fetch, server.openEvents, server.upload);
    const seen: string[] = [];
    const file = new File(["timestamp,bid,ask\n"], "EURUSD.csv");
    const summary = await client.importFile(file, { symbol: "EURUSD", format: "" }, (p) =>
      seen.push(`${p.phase} ${p.done}/${p.total}`),
    );
    expect(summary).toEqual(SUMMARY);
    expect(seen).toEqual(["upload 1/2", "upload 2/2", "read 1/2"]);
    const form = server.requests[0]?.body as FormData;
    expect(form.get("symbol")).toBe("EURUSD");
    expect(form.has("format")).toBe(false); // empty means "detect"
    expect((form.get("file") as File).name).toBe("EURUSD.csv");
  });

  it("rejects with the server's structured error", async () => {
    const body = {
      error: "DataFormatError",
      message: "Invalid data format: bad.csv line 3: no price",
      file: "bad.csv",
      line: 3,
      column: "bid",
      state: "failed",
    };
    const server = new FakeServer()
      .on("POST", "/api/imports", 202, { job_id: "j2" })
      .stream("/api/imports/j2/events", [{ type: "done", data: { state: "failed", status: 422 } }])
      .on("GET", "/api/imports/j2", 422, body);
    const client = new ApiClient(server.fetch, server.openEvents, server.upload);
    const failure = await client
      .importFile(new File(["x"], "bad.csv"), { symbol: "EURUSD" })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(422);
    expect((failure as ApiError).body.line).toBe(3);
    expect((failure as ApiError).message).toContain("Invalid data format");
  });
});

describe("ApiClient requests", () => {
  it("builds the bars query with UTC seconds", async () => {
    const server = new FakeServer().on(
      "GET",
      "/api/bars?symbol=EURUSD&timeframe=H1&to=1549238400&limit=10",
      200,
      { count: 0, time: [] },
    );
    const page = await new ApiClient(server.fetch, server.openEvents, server.upload).bars({
      symbol: "EURUSD",
      timeframe: "H1",
      to: 1549238400,
      limit: 10,
    });
    expect(page.count).toBe(0);
  });

  it("turns a FastAPI detail into a message", async () => {
    const server = new FakeServer();
    const failure = await new ApiClient(server.fetch, server.openEvents, server.upload)
      .datasets()
      .catch((e: unknown) => e);
    expect((failure as ApiError).status).toBe(404);
    expect((failure as ApiError).message).toBe("Not Found");
  });
});

describe("ApiClient.runBacktest", () => {
  const REQUEST = {
    source: "def handle_data(context, data):\n    pass\n",
    symbol: "EURUSD",
    timeframe: "M1",
    cash: 10_000,
    commission: "0",
    mode: "ohlc",
  };

  it("posts the run, reports its progress and job, and returns the saved run", async () => {
    const stats = { total_return_pct: 1.5, total_trades: 3 };
    const server = new FakeServer()
      .on("POST", "/api/runs", 202, { job_id: "r1", state: "running" })
      .stream("/api/runs/jobs/r1/events", [
        { type: "progress", data: { progress: { phase: "run", done: 1024, total: 2048 } } },
        { type: "done", data: { state: "completed", status: 200 } },
      ])
      .on("GET", "/api/runs/jobs/r1", 200, { state: "completed", run_id: "run-1", stats });
    const client = new ApiClient(server.fetch, server.openEvents, server.upload);
    const seen: string[] = [];
    const jobs: string[] = [];
    const outcome = await client.runBacktest(
      REQUEST,
      (p) => seen.push(`${p.phase} ${p.done}/${p.total}`),
      (job) => jobs.push(job),
    );
    expect(outcome).toEqual({ run_id: "run-1", stats });
    expect(seen).toEqual(["run 1024/2048"]);
    expect(jobs).toEqual(["r1"]);
    expect(JSON.parse(String(server.requests[0]?.body))).toEqual(REQUEST);
  });

  it("rejects with the strategy error and its line", async () => {
    const body = { error: "StrategyError", message: "boom", file: "<strategy>", line: 2 };
    const server = new FakeServer()
      .on("POST", "/api/runs", 202, { job_id: "r2" })
      .stream("/api/runs/jobs/r2/events", [{ type: "done", data: { state: "failed" } }])
      .on("GET", "/api/runs/jobs/r2", 422, { ...body, state: "failed" });
    const client = new ApiClient(server.fetch, server.openEvents, server.upload);
    const error = await client.runBacktest(REQUEST).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(422);
    expect((error as ApiError).body.line).toBe(2);
  });
});
