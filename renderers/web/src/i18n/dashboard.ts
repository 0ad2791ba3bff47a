// Dashboards, in both languages.
export default {
  "zh-CN": {
    dashboard: {
      period: "时间范围", days: "天", unavailable: "暂无数据", empty: "该时间范围内没有数据",
      presets: {
        today: "今天", this_week: "本周", this_month: "本月", last_month: "上月",
        this_quarter: "本季度", this_year: "今年", last_year: "去年",
        last_30_days: "最近 30 天", last_90_days: "最近 90 天", last_12_months: "最近 12 个月",
        all: "全部",
      },
    },
  },
  en: {
    dashboard: {
      period: "Period", days: "days", unavailable: "No figures", empty: "Nothing in this period",
      presets: {
        today: "Today", this_week: "This week", this_month: "This month",
        last_month: "Last month", this_quarter: "This quarter", this_year: "This year",
        last_year: "Last year", last_30_days: "Last 30 days", last_90_days: "Last 90 days",
        last_12_months: "Last 12 months", all: "All time",
      },
    },
  },
} as const;
