/** Pages that show a list as a table: filled on entry and by their Refresh button, with their empty and error messages. */

import { byId, fillRows, type Page, showError } from "./dom.ts";

/**
 * Every entry of a paged list (client commands 9 and 10), page after page from offset 0.
 *
 * @example
 * ```ts ignore
 * const peers = await allEntries(async (offset) => {
 *   const page = await listPeers(client, offset);
 *   return { total: page.total, entries: page.peers };
 * });
 * ```
 */
export async function allEntries<T>(
  page: (offset: number) => Promise<{ total: number; entries: T[] }>,
): Promise<T[]> {
  const entries: T[] = [];
  for (;;) {
    const next = await page(entries.length);
    entries.push(...next.entries);
    if (next.entries.length === 0 || entries.length >= next.total) return entries;
  }
}

/**
 * The page `name` of index.html, whose table body is `#NAME-rows` (marked busy while it
 * loads, for screen readers and tests), with `#NAME-empty`, `#NAME-error` and
 * `#NAME-refresh`: `load` gives the entries, `row` the cells of each.
 */
export function tablePage<T>(
  name: string,
  load: () => Promise<T[]>,
  row: (entry: T) => (string | Node)[],
): Page {
  const body = byId(`${name}-rows`, HTMLTableSectionElement);
  const empty = byId(`${name}-empty`, HTMLParagraphElement);
  const error = byId(`${name}-error`, HTMLParagraphElement);
  const refresh = byId(`${name}-refresh`, HTMLButtonElement);
  const show = async () => {
    refresh.disabled = true;
    body.setAttribute("aria-busy", "true");
    try {
      const entries = await load();
      fillRows(body, entries.map(row));
      empty.hidden = entries.length > 0;
      showError(error, null);
    } catch (caught) {
      showError(error, caught);
    } finally {
      refresh.disabled = false;
      body.removeAttribute("aria-busy");
    }
  };
  refresh.addEventListener("click", show);
  return { enter: show };
}
