// Unit tests of the web app's pure modules (conditions, formatting), run under Node.
import { fileURLToPath, URL } from "node:url";

import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  resolve: { alias: {
    "@": fileURLToPath(new URL("src", import.meta.url)),
    "loom-logic": fileURLToPath(new URL("../../engines/expressions/static/loom-logic.js",
                                        import.meta.url)),
  } },
  test: { include: ["tests/**/*.test.ts"], environment: "node" },
});
