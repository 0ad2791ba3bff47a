// The web app: one Vite project, built into renderers/web/dist by `make install` and served
// by `loom serve` at `/`. Nothing is fetched at run time.
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";

import vue from "@vitejs/plugin-vue";
import Components from "unplugin-vue-components/vite";
import { ElementPlusResolver } from "unplugin-vue-components/resolvers";
import { defineConfig, type Plugin } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// The API explorer at /docs runs Swagger UI from its npm package, copied into the build.
function swaggerAssets(): Plugin {
  const files = ["swagger-ui-bundle.js", "swagger-ui.css"];
  return {
    name: "loom-swagger-assets",
    apply: "build",
    closeBundle() {
      const target = here("dist/swagger");
      mkdirSync(target, { recursive: true });
      for (const file of files) {
        copyFileSync(here(`../../node_modules/swagger-ui-dist/${file}`), `${target}/${file}`);
      }
    },
  };
}

export default defineConfig({
  root: here("."),
  base: "/",
  plugins: [
    vue(),
    // Element Plus is imported per component (and its CSS with it), never as a whole.
    Components({ resolvers: [ElementPlusResolver({ importStyle: "css" })], dts: false }),
    swaggerAssets(),
  ],
  // vue-i18n's documented build flags: the app uses the Composition API only (legacy: false)
  // and neither <i18n-t> nor v-t, so their code stays out of every page
  define: {
    __VUE_I18N_LEGACY_API__: "false",
    __VUE_I18N_FULL_INSTALL__: "false",
    __INTLIFY_PROD_DEVTOOLS__: "false",
  },
  resolve: {
    alias: {
      "@": here("src"),
      // the condition operators the server also runs (one language, two interpreters)
      "loom-logic": here("../../engines/expressions/static/loom-logic.js"),
    },
  },
  build: {
    outDir: here("dist"),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 900,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8000", "/openapi.json": "http://127.0.0.1:8000" },
  },
});
