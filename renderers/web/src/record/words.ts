// The record page's words, added to the app's texts when its code first loads (they are not
// part of the first screen's download).
import { addArea } from "@/i18n";
import texts from "@/i18n/record";

addArea(texts);
