// 网页应用的中文文本。元数据的标签由服务器按语言给出；这里是应用自己的用语。
// 键与 en.ts 保持一致（有测试比较两者）。
export default {
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
  },
} as const;
