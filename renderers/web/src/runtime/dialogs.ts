// Small questions asked in a dialog (a name, a confirmation); loaded only when one is asked.
import { ElMessageBox } from "element-plus";
import "element-plus/es/components/message-box/style/css";

/** The text typed (trimmed), or null when cancelled; ``invalid`` says what a blank or
 *  unfitting answer lacks. */
export async function askText(title: string, label: string, ok: string, cancel: string,
                              invalid: string, pattern?: RegExp): Promise<string | null> {
  const answer = await ElMessageBox.prompt(label, title, {
    confirmButtonText: ok, cancelButtonText: cancel, inputPattern: pattern,
    inputErrorMessage: invalid,
    inputValidator: (text: string) => !!text.trim() }).catch(() => null);
  return answer ? answer.value.trim() : null;
}

export async function confirm(title: string, text: string, ok: string,
                              cancel: string): Promise<boolean> {
  return ElMessageBox.confirm(text, title, { type: "warning", confirmButtonText: ok,
                                             cancelButtonText: cancel })
    .then(() => true, () => false);
}
