// The shell's own words (sign-in, navigation, problems, long operations) in both languages.
// Each area of the app keeps its texts in a file like this one; index.ts merges them, and a
// unit test checks that both languages have the same keys.
export default {
  "zh-CN": {
    app: { name: "Loom", loading: "加载中…", retry: "重试", close: "关闭" },
    signIn: {
      title: "登录", email: "邮箱", password: "密码", submit: "登录",
      failed: "登录失败", locked: "尝试次数过多，请在 {seconds} 秒后重试。",
      welcome: "用元数据搭建的业务应用",
    },
    shell: {
      apps: "应用", switchApp: "切换应用", search: "搜索", searchHint: "搜索（按 / 键）",
      noResults: "没有找到", language: "语言", signOut: "退出登录",
      menu: "菜单", navigation: "导航", entities: "数据", views: "视图",
      dashboards: "看板", signedInAs: "当前用户：{name}", admin: "管理员",
      noApps: "暂时没有您可以使用的应用。", apiDocs: "API 文档",
      more: "还有 {count} 项",
    },
    problem: {
      unauthenticated: "请登录", unauthenticatedHint: "您的会话已结束。",
      forbidden: "您无权打开此页面",
      forbiddenHint: "您的角色不包含此权限。如有需要，请联系管理员。",
      notFound: "页面不存在", notFoundHint: "它可能已被删除或移动。",
      unreachable: "无法连接服务器",
      unreachableHint: "请检查网络连接，Loom 会自动重试。",
      busy: "服务器繁忙", busyHint: "请稍后重试。",
      home: "返回首页", generic: "出错了",
    },
    operation: {
      demoLoading: "正在准备演示数据：{done} / {total}",
      demoStep: "正在准备演示数据：{step}",
      demoDone: "演示数据已就绪。",
      failed: "准备演示数据失败：{reason}",
      working: "{step}：{done} / {total}",
      workingStep: "{step}……",
      done: "已完成：{step}。",
      workFailed: "未能完成：{reason}",
    },
  },
  en: {
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
      working: "{step}: {done} of {total}",
      workingStep: "{step}…",
      done: "Done: {step}.",
      workFailed: "This did not finish: {reason}",
    },
  },
} as const;
