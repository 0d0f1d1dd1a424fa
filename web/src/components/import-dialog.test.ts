import { describe, expect, it } from "vitest";
import { ApiClient } from "../api/client";
import { FakeServer } from "../api/fake-server";
import type { ImportSummary } from "../api/types";
import { byTestId } from "./dom";
import { ImportDialog } from "./import-dialog";

function choose(dialog: ImportDialog, file: File): void {
  const input = byTestId<HTMLInputElement>(dialog.element, "file-input");
  Object.defineProperty(input, "files", { value: [file], configurable: true });
  input.dispatchEvent(new Event("change"));
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await new Promise((wake) => setTimeout(wake, 0));
}

function submit(dialog: ImportDialog): void {
  byTestId(dialog.element, "import-confirm")
    .closest("form")
    ?.dispatchEvent(new Event("submit", { cancelable: true }));
}

describe("ImportDialog", () => {
  it("shows the format error, then a completed import of the next file", async () => {
    const server = new FakeServer()
      .on("POST", "/api/imports", 202, { job_id: "bad" })
      .stream("/api/imports/bad/events", [{ type: "done", data: { state: "failed", status: 422 } }])
      .on("GET", "/api/imports/bad", 422, {
        error: "DataFormatError",
        message: "Invalid data format: invalid.csv line 2: high is below low",
      });
    const imported: ImportSummary[] = [];
    const dialog = new ImportDialog(
      new ApiClient(server.fetch, server.openEvents, server.upload),
      (s) => imported.push(s),
    );
    document.body.append(dialog.element);
    dialog.open("EURUSD");

    choose(dialog, new File(["x"], "invalid.csv"));
    submit(dialog);
    await settle();
    const error = byTestId(dialog.element, "error-message");
    expect(error.hidden).toBe(false);
    expect(error.textContent).toBe("Invalid data format: invalid.csv line 2: high is below low");

    server
      .on("POST", "/api/imports", 202, { job_id: "good" })
      .stream("/api/imports/good/events", [
        { type: "done", data: { state: "completed", status: 200 } },
      ])
      .on("GET", "/api/imports/good", 200, {
        state: "completed",
        summary: {
          symbol: "GBPUSD",
          kind: "M1",
          rows_kept: 2880,
          first: "2012-01-02T00:00:00Z",
          last: "2012-01-03T23:59:00Z",
          unchanged: false,
        },
      });
    choose(dialog, new File(["y"], "gbpusd-m1.csv"));
    expect(byTestId<HTMLInputElement>(dialog.element, "import-symbol").value).toBe("GBPUSD");
    expect(error.hidden).toBe(true); // a new file clears the old outcome
    submit(dialog);
    await settle();
    expect(byTestId(dialog.element, "import-status").textContent).toContain(
      "Import completed: GBPUSD, 2,880 M1 bars",
    );
    expect(imported.map((summary) => summary.symbol)).toEqual(["GBPUSD"]);
  });

  it("preselects the detected format and leaves it editable", async () => {
    const server = new FakeServer().on("POST", "/api/formats/detect", 200, {
      format: "mt-bars",
      kind: "bars",
      description: "MetaTrader",
      side: "bid",
      timeframe: "H1",
    });
    const dialog = new ImportDialog(
      new ApiClient(server.fetch, server.openEvents, server.upload),
      () => undefined,
    );
    dialog.setFormats([
      { name: "generic-bars", kind: "bars", description: "" },
      { name: "mt-bars", kind: "bars", description: "" },
    ]);
    dialog.open("EURUSD");
    choose(dialog, new File(["<DATE>\t<TIME>\t<OPEN>\n"], "EURUSD_H1.csv"));
    await settle();
    const select = byTestId<HTMLSelectElement>(dialog.element, "import-format");
    expect(select.value).toBe("mt-bars");
    expect(byTestId(dialog.element, "import-detected").textContent).toBe(
      "Detected: mt-bars (H1 bid)",
    );
    const sample = server.requests[0]?.body as FormData;
    expect(sample.get("symbol")).toBe("EURUSD");
    expect((sample.get("sample") as File).name).toBe("EURUSD_H1.csv");
    select.value = "generic-bars"; // the user overrides it
    expect(select.value).toBe("generic-bars");
  });

  it("does not sample compressed files", async () => {
    const server = new FakeServer();
    const dialog = new ImportDialog(
      new ApiClient(server.fetch, server.openEvents, server.upload),
      () => undefined,
    );
    dialog.open("EURUSD");
    choose(dialog, new File(["x"], "EURUSD.csv.gz"));
    await settle();
    expect(server.requests).toEqual([]);
    expect(byTestId(dialog.element, "import-detected").textContent).toBe("");
  });

  it("asks for a file before uploading anything", async () => {
    const server = new FakeServer();
    const dialog = new ImportDialog(
      new ApiClient(server.fetch, server.openEvents, server.upload),
      () => undefined,
    );
    dialog.open("EURUSD");
    submit(dialog);
    await settle();
    expect(byTestId(dialog.element, "error-message").textContent).toBe("Choose a file to import.");
    expect(server.requests).toEqual([]);
  });
});
