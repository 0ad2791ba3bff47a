// Rich text kept to what business notes need (paragraphs, bold, italic, lists, links):
// any other markup a value carries — scripts, event handlers, styles — is dropped before
// it is shown or edited.
const KEPT = new Set(["P", "BR", "B", "STRONG", "I", "EM", "U", "UL", "OL", "LI", "A", "DIV",
                      "SPAN", "BLOCKQUOTE", "H3", "H4"]);
const SAFE_LINK = /^(https?:|mailto:|tel:)/i;

function copy(source: Node, into: Node, document: Document): void {
  for (const child of [...source.childNodes]) {
    if (child.nodeType === Node.TEXT_NODE) {
      into.appendChild(document.createTextNode(child.textContent ?? ""));
    } else if (child.nodeType === Node.ELEMENT_NODE) {
      const element = child as Element;
      if (["SCRIPT", "STYLE", "IFRAME", "OBJECT", "TEMPLATE"].includes(element.tagName)) continue;
      if (!KEPT.has(element.tagName)) {
        copy(element, into, document);  // unknown wrappers go; their text stays
        continue;
      }
      const kept = document.createElement(element.tagName.toLowerCase());
      const href = element.getAttribute("href");
      if (element.tagName === "A" && href && SAFE_LINK.test(href.trim())) {
        kept.setAttribute("href", href.trim());
        kept.setAttribute("target", "_blank");
        kept.setAttribute("rel", "noopener noreferrer");
      }
      copy(element, kept, document);
      into.appendChild(kept);
    }
  }
}

/** ``html`` with only the kept elements (and safe links) left. */
export function cleanHtml(html: string): string {
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  const target = document.implementation.createHTMLDocument("");
  const box = target.createElement("div");
  copy(parsed.body, box, target);
  return box.innerHTML;
}
