// A local stand-in for the server's transport (fetch + EventSource), for unit tests. It answers
// from a table of canned responses; the client code under test runs unchanged.

export interface CannedResponse {
  status: number;
  body: unknown;
}

export class FakeServer {
  readonly requests: { method: string; url: string; body: unknown }[] = [];
  private readonly routes = new Map<string, CannedResponse>();
  private readonly events = new Map<string, { type: string; data: unknown }[]>();

  on(method: string, url: string, status: number, body: unknown): this {
    this.routes.set(`${method} ${url}`, { status, body });
    return this;
  }

  stream(url: string, events: { type: string; data: unknown }[]): this {
    this.events.set(url, events);
    return this;
  }

  readonly fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const method = (init?.method ?? "GET").toUpperCase();
    const url = String(input);
    this.requests.push({ method, url, body: init?.body });
    const canned = this.routes.get(`${method} ${url}`);
    if (canned === undefined)
      return Promise.resolve(
        new Response(JSON.stringify({ detail: "Not Found" }), { status: 404 }),
      );
    return Promise.resolve(new Response(JSON.stringify(canned.body), { status: canned.status }));
  };

  readonly upload = (
    url: string,
    body: FormData,
    onSent: (sent: number, total: number) => void,
  ): Promise<Response> => {
    onSent(1, 2);
    onSent(2, 2);
    return this.fetch(url, { method: "POST", body });
  };

  readonly openEvents = (url: string): EventSource => {
    const target = new EventTarget();
    const events = this.events.get(url) ?? [];
    setTimeout(() => {
      for (const event of events) {
        target.dispatchEvent(new MessageEvent(event.type, { data: JSON.stringify(event.data) }));
      }
    }, 0);
    return Object.assign(target, { close: () => undefined }) as unknown as EventSource;
  };
}
