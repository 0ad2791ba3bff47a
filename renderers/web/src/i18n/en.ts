// English texts of the web app. Metadata labels come localized from the server; these are
// the app's own words. Keep the keys in step with zh-CN.ts (a test compares them).
export default {
  app: { name: "Loom", loading: "Loading…", retry: "Try again", close: "Close" },
  signIn: {
    title: "Sign in", email: "Email", password: "Password", submit: "Sign in",
    failed: "Sign-in failed", locked: "Too many attempts. Try again in {seconds} seconds.",
    welcome: "Business apps built from metadata",
  },
  shell: {
    apps: "Apps", switchApp: "Switch app", search: "Search", searchHint: "Search (press /)",
    noResults: "Nothing found", language: "Language", signOut: "Sign out",
    menu: "Menu", navigation: "Navigation", entities: "Records", views: "Views",
    dashboards: "Dashboards", signedInAs: "Signed in as {name}", admin: "Administrator",
    noApps: "There is no app you may use yet.", apiDocs: "API documentation",
    more: "{count} more",
  },
  problem: {
    unauthenticated: "Please sign in", unauthenticatedHint: "Your session has ended.",
    forbidden: "You may not open this page",
    forbiddenHint: "Your roles do not include this. Ask your administrator if you need it.",
    notFound: "Page not found", notFoundHint: "It may have been deleted or moved.",
    unreachable: "Cannot reach the server",
    unreachableHint: "Check your network connection. Loom will retry by itself.",
    busy: "The server is busy", busyHint: "Try again in a moment.",
    home: "Back to the start", generic: "Something went wrong",
  },
  operation: {
    demoLoading: "Preparing the demo data: {done} of {total}",
    demoStep: "Preparing the demo data: {step}",
    demoDone: "The demo data is ready.",
    failed: "Preparing the demo data failed: {reason}",
  },
} as const;
