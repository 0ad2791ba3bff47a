import "element-plus/theme-chalk/base.css";
import "./styles.css";

import { createPinia } from "pinia";
import { createApp } from "vue";

import { ApiError, on, Unreachable } from "@/api";
import App from "@/App.vue";
import { i18n } from "@/i18n";
import { router } from "@/router";
import { useSession } from "@/stores/session";
import { useWorkspace } from "@/stores/workspace";

const app = createApp(App);
app.use(createPinia());
app.use(i18n);
app.use(router);

// A session that ends while the app is open (expired, signed out elsewhere) leads to the
// sign-in page, which brings the reader back where they were.
on("unauthenticated", () => {
  const session = useSession();
  // before anyone signed in, the page's guard sends the reader to sign in
  if (!session.user) return;
  session.forget();
  useWorkspace().reset();
  const here = router.currentRoute.value;
  if (!here.meta.public) {
    void router.push({ name: "sign-in", query: { next: here.fullPath } });
  }
});

// A refusal nothing else handled is still said to the person; an unreachable server is
// already announced by the banner. Anything else is a defect, logged as such.
function handled(error: unknown): boolean {
  if (error instanceof Unreachable) return true;
  if (error instanceof ApiError) {
    void import("@/shell/notices").then(({ refused }) => refused(error));
    return true;
  }
  return false;
}
window.addEventListener("unhandledrejection", (event) => {
  if (handled(event.reason)) event.preventDefault();
});
app.config.errorHandler = (error) => {
  if (!handled(error)) console.error(error);
};

app.mount("#app");
