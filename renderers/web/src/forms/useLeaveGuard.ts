// Unsaved changes are not lost by accident: leaving the page in the app asks first, and
// closing or reloading the tab makes the browser ask.
import { onBeforeUnmount, onMounted, type Ref } from "vue";
import { onBeforeRouteLeave } from "vue-router";

export function useLeaveGuard(dirty: Ref<boolean>, ask: () => Promise<boolean>): void {
  const warn = (event: BeforeUnloadEvent) => {
    if (!dirty.value) return;
    event.preventDefault();
    event.returnValue = "";  // older browsers need a value set to ask
  };
  onMounted(() => window.addEventListener("beforeunload", warn));
  onBeforeUnmount(() => window.removeEventListener("beforeunload", warn));
  onBeforeRouteLeave(async () => (dirty.value ? ask() : true));
}
