// ECharts, with only what the dashboards draw (charts, their parts, the canvas), in the
// dashboard page's own chunk.
import { BarChart, FunnelChart, GaugeChart, LineChart, PieChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { use } from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

use([BarChart, LineChart, PieChart, FunnelChart, GaugeChart, GridComponent, LegendComponent,
     TooltipComponent, CanvasRenderer]);

export { default as VChart } from "vue-echarts";
