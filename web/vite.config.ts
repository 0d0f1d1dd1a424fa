// The build lands inside the Python package, so an editable install and the wheel both serve it.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const outDir = fileURLToPath(new URL("../src/backtestr/server/static", import.meta.url));

export default defineConfig({
  base: "/",
  build: { outDir, emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  test: { environment: "happy-dom", include: ["src/**/*.test.ts"] },
});
