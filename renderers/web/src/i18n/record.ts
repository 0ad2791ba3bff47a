// The record page (360°): header and actions, the stage path, related lists, the timeline,
// running flows and sharing, in both languages.
export default {
  "zh-CN": {
    record: {
      actions: "操作", moreActions: "更多操作", unavailable: "不可用：{reason}",
      actionDone: "已完成“{action}”", refused: "未能执行“{action}”：{reason}",
      confirmTitle: "请确认", ok: "确定", cancel: "取消", back: "返回列表",
      notFound: "记录不存在或您无权查看", loadFailed: "加载失败：{reason}",
      details: "详细信息", edit: "编辑", noValue: "—", id: "编号 {id}",
      sections: "页面分区",
    },
    stage: {
      path: "阶段", current: "当前阶段", done: "已完成", ahead: "未开始",
      guidance: "要做的事", keyFields: "关键信息", keyConditions: "需满足",
      timeLimit: "时限", due: "截止 {when}", overdue: "已超时（截止 {when}）",
      entered: "进入于 {when}", missing: "进入下一阶段前还需填写：{fields}",
      missingConditions: "进入下一阶段前还需：{items}", missingMark: "待填写",
      none: "无",
    },
    related: {
      title: "相关记录", new: "新建", more: "查看全部", empty: "暂无",
      count: "{count} 条", countCapped: "{count}+ 条",
    },
    timeline: {
      title: "动态", more: "加载更多", empty: "暂无动态", by: "{name}",
      system: "系统", to: "发给 {to}", cc: "抄送 {cc}", comment: "意见：{text}",
      assignee: "处理人：{name}", open: "打开", status: {
        pending: "待发送", sent: "已发送", failed: "发送失败", dead: "发送失败",
      },
      filter: {
        all: "全部", activity: "跟进", changes: "字段变更", flows: "流程",
        messages: "邮件和通知",
      },
    },
    flows: {
      title: "流程", empty: "没有正在运行的流程", waitingAt: "等待于：{nodes}",
      assignee: "处理人：{name}", candidates: "待认领（{count} 人）", due: "截止 {when}",
      started: "发起于 {when}", unassigned: "未分配",
    },
    sharing: {
      title: "共享", empty: "尚未共享给任何人", person: "共享给", access: "权限",
      read: "只读", write: "可编辑", share: "共享", remove: "取消共享",
      removeConfirm: "取消与 {name} 的共享？", done: "已共享", removed: "已取消共享",
      notAllowed: "只有可以编辑此记录的人才能共享它。",
    },
  },
  en: {
    record: {
      actions: "Actions", moreActions: "More actions", unavailable: "Unavailable: {reason}",
      actionDone: "“{action}” done", refused: "“{action}” could not run: {reason}",
      confirmTitle: "Please confirm", ok: "OK", cancel: "Cancel", back: "Back to the list",
      notFound: "This record does not exist or you may not see it",
      loadFailed: "Could not load: {reason}", details: "Details", edit: "Edit",
      noValue: "—", id: "No. {id}", sections: "Page sections",
    },
    stage: {
      path: "Stage", current: "Current stage", done: "Done", ahead: "Not started",
      guidance: "What to do", keyFields: "Key information", keyConditions: "Needs",
      timeLimit: "Time limit", due: "Due {when}", overdue: "Overdue (due {when})",
      entered: "Entered {when}", missing: "Before moving on, fill in: {fields}",
      missingConditions: "Before moving on, it needs: {items}", missingMark: "missing",
      none: "None",
    },
    related: {
      title: "Related", new: "New", more: "See all", empty: "None yet",
      count: "{count}", countCapped: "{count}+",
    },
    timeline: {
      title: "Activity", more: "Load more", empty: "Nothing yet", by: "{name}",
      system: "System", to: "To {to}", cc: "Cc {cc}", comment: "Comment: {text}",
      assignee: "Assignee: {name}", open: "Open", status: {
        pending: "queued", sent: "sent", failed: "failed", dead: "failed",
      },
      filter: {
        all: "All", activity: "Follow-ups", changes: "Changes", flows: "Flows",
        messages: "Emails and notifications",
      },
    },
    flows: {
      title: "Flows", empty: "No flow is running", waitingAt: "Waiting at: {nodes}",
      assignee: "Assignee: {name}", candidates: "To be claimed ({count} people)",
      due: "Due {when}", started: "Started {when}", unassigned: "Unassigned",
    },
    sharing: {
      title: "Sharing", empty: "Not shared with anyone", person: "Share with",
      access: "Access", read: "Read", write: "Edit", share: "Share", remove: "Stop sharing",
      removeConfirm: "Stop sharing with {name}?", done: "Shared", removed: "No longer shared",
      notAllowed: "Only people who may change this record may share it.",
    },
  },
} as const;
