// A passing message from a page of the first screen: the message component comes in its own
// chunk, once there is something to say.
import type { MessageParams } from "element-plus";

export function say(options: MessageParams): void {
  void import("@/shell/notices").then((notices) => notices.say(options));
}
