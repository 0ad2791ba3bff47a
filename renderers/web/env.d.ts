declare module "loom-logic" {
  import type jsonLogic from "json-logic-js";
  const loomLogic: {
    install(engine: typeof jsonLogic): void;
    setEnv(env: Record<string, unknown>): void;
  };
  export default loomLogic;
}
