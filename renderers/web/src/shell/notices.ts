// Telling a person something went wrong, in a passing message.
import { ElMessage, type MessageParams } from "element-plus";
import "element-plus/es/components/message/style/css";

import type { ApiError } from "@/api";

export function refused(error: ApiError): void {
  const details = error.problem.errors.map((item) => item.message).filter(Boolean);
  ElMessage({ type: "error", showClose: true, duration: 6000,
              message: [error.problem.detail, ...details].filter(
                (part, index, all) => part && all.indexOf(part) === index).join("；") });
}

/** A passing message of any kind (pages load this module only when they have one). */
export function say(options: MessageParams): void {
  ElMessage(options);
}
