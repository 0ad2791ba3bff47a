// Whether the server answers. When a request cannot reach it, the app shows a notice and
// probes the health endpoint until it answers again.
import { defineStore } from "pinia";
import { ref } from "vue";

import { on } from "@/api";

const PROBE_MS = 3000;

export const useConnectivity = defineStore("connectivity", () => {
  const reachable = ref(true);
  let timer: number | undefined;

  async function probe(): Promise<void> {
    try {
      const response = await fetch("/api/health", { cache: "no-store" });
      if (response.ok || response.status === 503) {
        reachable.value = true;
        return;
      }
    } catch {
      // still down
    }
    timer = window.setTimeout(probe, PROBE_MS);
  }

  on("unreachable", () => {
    if (!reachable.value) return;
    reachable.value = false;
    window.clearTimeout(timer);
    timer = window.setTimeout(probe, PROBE_MS);
  });
  on("reachable", () => {
    reachable.value = true;
    window.clearTimeout(timer);
  });

  return { reachable, probe };
});
