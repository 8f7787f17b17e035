/** The link an operator can hand a member: the wallet's address with the account and key in its fragment. */

/**
 * Reads an account name and key given in the address's fragment, `#account=NAME&key=HEX`,
 * the link an operator can hand a member (a fragment never leaves the browser). Null when
 * the fragment is anything else.
 *
 * @example
 * ```ts
 * import { keyLink } from "./key_link.ts";
 * keyLink("#account=alice&key=00")?.account; // "alice"
 * keyLink("#peers"); // null
 * ```
 */
export function keyLink(hash: string): { account: string; key: string } | null {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const account = params.get("account");
  const key = params.get("key");
  return account === null || key === null ? null : { account, key };
}
