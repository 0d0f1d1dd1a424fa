// The build lands inside the Python package, so an editable install and the wheel both serve it.
//
// For frontend work with hot reload: start `backtestr ui --port 8765 --no-browser`, then
// `BACKTESTR_TOKEN=<token it printed> npm run dev`. The dev server forwards /api to it with the
// token as a header and as the server's own origin (the server refuses any other origin).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const outDir = fileURLToPath(new URL("../src/backtestr/server/static", import.meta.url));
const apiPort = process.env.BACKTESTR_PORT ?? "8765";
const apiTarget = `http://127.0.0.1:${apiPort}`;

export default defineConfig({
  base: "/",
  build: { outDir, emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: {
    host: "127.0.0.1",
    proxy: {
      "/api": {
        target: apiTarget,
        changeOrigin: true, // Host: 127.0.0.1:<port>, as the server expects
        ws: true, // the replay socket
        headers: { "X-Backtestr-Token": process.env.BACKTESTR_TOKEN ?? "" },
        configure: (proxy) => {
          proxy.on("proxyReq", (request) => {
            if (request.getHeader("origin")) request.setHeader("origin", apiTarget);
          });
        },
      },
    },
  },
  test: { environment: "happy-dom", include: ["src/**/*.test.ts"] },
});
