// Pages and who may reach them: everything but the sign-in page needs a session. Pages
// are loaded on demand, so the first screen loads only what it shows.
import { createRouter, createWebHistory, type RouteLocationNormalized } from "vue-router";

import { mayBeSignedIn } from "@/api/client";
import { useSession } from "@/stores/session";
import { useWorkspace } from "@/stores/workspace";

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/sign-in", name: "sign-in", component: () => import("@/shell/SignInPage.vue"),
      meta: { public: true } },
    { path: "/", name: "home", component: () => import("@/shell/HomePage.vue") },
    {
      path: "/apps/:app",
      component: () => import("@/shell/AppShell.vue"),
      props: true,
      children: [
        { path: "", name: "app-home", component: () => import("@/shell/AppHome.vue") },
        { path: "list/:entity", name: "entity-list", props: true,
          component: () => import("@/runtime/ListPage.vue") },
        { path: "views/:view", name: "view", props: true,
          component: () => import("@/runtime/ViewPage.vue") },
        { path: "records/:entity/new", name: "record-new", props: true,
          component: () => import("@/runtime/RecordEditPage.vue") },
        { path: "records/:entity/:id/edit", name: "record-edit", props: true,
          component: () => import("@/runtime/RecordEditPage.vue") },
        { path: "records/:entity/:id", name: "record", props: true,
          component: () => import("@/runtime/RecordPage.vue") },
        { path: "dashboards/:name", name: "dashboard", props: true,
          component: () => import("@/dashboards/DashboardPage.vue") },
        { path: ":pathMatch(.*)*", name: "app-not-found",
          component: () => import("@/shell/ProblemPage.vue"), props: { kind: "not-found" } },
      ],
    },
    { path: "/forbidden", name: "forbidden", component: () => import("@/shell/ProblemPage.vue"),
      props: { kind: "forbidden" } },
    { path: "/:pathMatch(.*)*", name: "not-found",
      component: () => import("@/shell/ProblemPage.vue"), props: { kind: "not-found" } },
  ],
});

router.beforeEach(async (to: RouteLocationNormalized) => {
  if (to.meta.public) return true;
  const session = useSession();
  // the page's code and the app's schema are fetched while the session is checked
  for (const record of to.matched) {
    const component = record.components?.default;
    if (typeof component === "function") void (component as () => Promise<unknown>)();
  }
  const app = to.params.app;
  // ... and, when a session's cookies are here, the app's schema (without them it would
  // only be refused)
  if (typeof app === "string" && !session.checked && mayBeSignedIn()) {
    useWorkspace().open(app).catch(() => undefined);
  }
  if (await session.ensure()) return true;
  return { name: "sign-in", query: to.fullPath !== "/" ? { next: to.fullPath } : {} };
});
