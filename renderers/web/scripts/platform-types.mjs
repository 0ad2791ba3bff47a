// The web app's types of the platform API, made from the platform's own OpenAPI document
// (`loom openapi`, no database needed) with openapi-typescript: src/api/platform.d.ts is
// generated before every build and typecheck (git-ignored), so the browser's idea of an
// answer cannot drift from what the server documents. Offline: both run locally.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const python = process.env.LOOM_PYTHON ?? join(root, ".venv", "bin", "python");
if (!existsSync(python)) {
  console.error(`api:types needs the platform's Python (${python}): run make install first`);
  process.exit(1);
}
const document = JSON.parse(execFileSync(python, ["-m", "loom.platform.cli", "openapi"],
                                         { cwd: root, encoding: "utf-8",
                                           maxBuffer: 64 * 1024 * 1024 }));
const target = join(root, "renderers/web/src/api/platform.d.ts");
const header = "// Generated from the platform's OpenAPI document by `npm run api:types`;" +
               " do not edit.\n";
const types = header + astToString(await openapiTS(document));
// written only when it changed, so what depends on it is not rebuilt for nothing
if (!existsSync(target) || readFileSync(target, "utf-8") !== types) {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, types);
}
