/** Small helpers over the page's markup: find elements, fill tables, show messages. Text only, never markup. */

import type { DisplayUnit } from "../client/amounts.ts";
import type { Client } from "../client/client.ts";
import type { AccountRef } from "../wire/names.ts";
import type { WalletInfo } from "./server_link.ts";
import { errorText } from "./words.ts";

/** Everything a page of the wallet works with once the member's key is in. */
export interface Wallet {
  client: Client;
  /** The member's own account, `name@address`. */
  me: AccountRef;
  info: WalletInfo;
  /** How the server shows amounts (client command 11). */
  display: DisplayUnit;
}

/** One page of the wallet: a `<section id="page-NAME">` of index.html and its behaviour. */
export interface Page {
  /** Called when the page is shown; `arg` is what follows `#NAME/` in the address. */
  enter(arg: string): void | Promise<void>;
  /** Called when another page is shown: stop whatever polls. */
  leave?(): void;
}

/**
 * The element with `id`, of the expected class; throws if index.html lacks it, which is a bug
 * of the page, not of the member.
 */
export function byId<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return element;
}

/** Replaces a table body's rows with one row per entry, each cell given as text. */
export function fillRows(body: HTMLTableSectionElement, rows: (string | Node)[][]): void {
  body.replaceChildren(
    ...rows.map((cells) => {
      const row = document.createElement("tr");
      cells.forEach((content, i) => {
        const cell = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) cell.scope = "row";
        cell.append(content);
        row.append(cell);
      });
      return row;
    }),
  );
}

/** A link to another page of the wallet. */
export function pageLink(text: string, hash: string): HTMLAnchorElement {
  const link = document.createElement("a");
  link.href = `#${hash}`;
  link.textContent = text;
  return link;
}

/**
 * Runs a form's action on submit, with its button disabled meanwhile and any error shown,
 * in words, in the form's alert paragraph (`.error`), which screen readers announce.
 */
export function onSubmit(form: HTMLFormElement, action: () => Promise<void>): void {
  const error = form.querySelector(".error");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (error) error.textContent = "";
    if (button instanceof HTMLButtonElement) button.disabled = true;
    try {
      await action();
    } catch (caught) {
      if (error) error.textContent = errorText(caught);
    } finally {
      if (button instanceof HTMLButtonElement) button.disabled = false;
    }
  });
}

/** Shows `caught` in words in the alert paragraph `target`, or clears it when null. */
export function showError(target: HTMLElement, caught: unknown): void {
  target.textContent = caught === null ? "" : errorText(caught);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
