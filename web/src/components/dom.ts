// A small element builder: enough for a handful of panels without a framework.

type Attributes = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === "testid") element.setAttribute("data-testid", String(value));
    else if (name === "class") element.className = String(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

/** The first element matching `selector` under `root`; throws when the page lacks it. */
export function find<T extends Element = HTMLElement>(root: ParentNode, selector: string): T {
  const found = root.querySelector<T & Element>(selector);
  if (found === null) throw new Error(`Missing element ${selector}`);
  return found;
}

export function byTestId<T extends Element = HTMLElement>(root: ParentNode, id: string): T {
  return find<T>(root, `[data-testid="${id}"]`);
}
