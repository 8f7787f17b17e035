/**
 * The web wallet in real Chromium: alice (one server) pays carol (another) through bob (a
 * third), entirely through two browser pages, and the pages' balances match the CLI's.
 * With RIPPLE_SCREENSHOTS=1 (`deno task screenshots`) the test writes its screenshots of
 * each page to docs/screenshots; otherwise it takes them and only checks they are images.
 */

import assert from "node:assert/strict";
import { fromHex, toHex } from "../../src/auth/keys.ts";
import { receiptId } from "../../src/auth/receipts.ts";
import * as api from "../../src/client/commands.ts";
import { parseAmount } from "../../src/client/amounts.ts";
import { formatAccountRef } from "../../src/wire/names.ts";
import { Reason, reasonText } from "../../src/wire/reasons.ts";
import { standing } from "../../src/web/words.ts";
import {
  type Account,
  addAccount,
  addPeers,
  clientFor,
  REPO,
  rippleClient,
  startServer,
  tempDir,
  waitForLog,
} from "../integration/harness.ts";
import { Browser, type Tab } from "./_chromium.ts";

const SCREENSHOTS = Deno.env.get("RIPPLE_SCREENSHOTS") === "1";
const PNG = [0x89, 0x50, 0x4e, 0x47];

/** The page's own words for the balance with `peer`, from the peers table. */
async function pageStanding(tab: Tab, peer: Account): Promise<string> {
  const row = (await tab.rows("#peers-rows")).find(([name]) => name === formatAccountRef(peer.ref));
  assert.ok(row, `${formatAccountRef(peer.ref)} is on the peers page`);
  return row[3];
}

/** Every server counts in hours to the hundredth: 2550 in the books is 25.50 hours. */
const HOURS = { unit: "hours", decimals: 2 };
const UNIT_FLAGS = ["--unit", HOURS.unit, "--decimals", String(HOURS.decimals)];

/** The balance `ripple client balance --json` reports for `account` with `peer`, in the books' integers. */
async function cliBalance(account: Account, peer: Account, counterFile: string): Promise<bigint> {
  const result = await rippleClient(account, counterFile, [
    "--json",
    "balance",
    formatAccountRef(peer.ref),
  ]);
  assert.equal(result.code, 0, result.stderr);
  const shown: string = JSON.parse(result.stdout).balance;
  const magnitude = parseAmount(shown.replace(/^-/, ""), HOURS);
  return shown.startsWith("-") ? -magnitude : magnitude;
}

async function screenshot(tab: Tab, name: string): Promise<void> {
  const png = await tab.screenshot();
  assert.deepEqual([...png.subarray(0, 4)], PNG, `the screenshot of ${name} is a PNG`);
  assert.ok(png.length > 5_000, `the screenshot of ${name} shows something`);
  if (SCREENSHOTS) await Deno.writeFile(`${REPO}docs/screenshots/${name}.png`, png);
}

/** Shows a page by its link in the navigation, with the mouse, and checks the focus moved to its heading. */
async function visit(tab: Tab, page: string): Promise<void> {
  await tab.click(`nav a[href="#${page}"]`);
  await tab.waitFor(`!document.getElementById("page-${page}").hidden`);
  assert.equal(await tab.focused(), `${page}-title`);
}

Deno.test("a member pays a member of another server through a hop, in two browser pages", async (t) => {
  await using counters = await tempDir();
  await using aliceServer = await startServer({ host: "127.0.0.2", http: true, args: UNIT_FLAGS });
  await using bobServer = await startServer({ host: "127.0.0.3", args: UNIT_FLAGS });
  await using carolServer = await startServer({ host: "127.0.0.4", http: true, args: UNIT_FLAGS });
  const [alicePage, carolPage] = [aliceServer.walletUrl!, carolServer.walletUrl!];
  const alice = await addAccount(aliceServer, "alice");
  const bob = await addAccount(bobServer, "bob");
  const carol = await addAccount(carolServer, "carol");
  await addPeers(alice, bob);
  await addPeers(bob, carol);
  // bob lets alice owe him 100 hours; he has no page, so he uses the client library.
  await api.setTrustline(clientFor(bob), alice.ref, 10_000n);
  await using browser = await Browser.launch();
  let carolTab: Tab;
  let aliceTab: Tab;

  await t.step("carol pastes her account and key, with the keyboard only", async () => {
    carolTab = await browser.open(carolPage);
    await carolTab.waitFor(`!document.getElementById("page-key").hidden`);
    assert.equal(await carolTab.focused(), "key-account");
    await carolTab.type("carol");
    await carolTab.press("Tab");
    assert.equal(await carolTab.focused(), "key-key");
    await carolTab.type(toHex(carol.key));
    await screenshot(carolTab, "key");
    await carolTab.tabTo("key-submit");
    await carolTab.press("Enter");
    await carolTab.waitFor(`!document.getElementById("page-peers").hidden`);
    assert.equal(await carolTab.text("#me"), formatAccountRef(carol.ref));
    assert.equal(
      await carolTab.evaluate("document.getElementById('key-key').value"),
      "",
      "the key does not stay in the form",
    );
  });

  await t.step(
    "alice opens the link her operator handed over; the key leaves the address",
    async () => {
      aliceTab = await browser.open(`${alicePage}#account=alice&key=${toHex(alice.key)}`);
      await aliceTab.waitFor(`!document.getElementById("page-peers").hidden`);
      assert.equal(await aliceTab.evaluate("location.href"), alicePage);
      await aliceTab.waitFor(`document.querySelectorAll("#peers-rows tr").length === 1`);
      assert.deepEqual(await aliceTab.rows("#peers-rows"), [[
        formatAccountRef(bob.ref),
        "0.00 hours",
        "100.00 hours",
        "Even: neither owes the other",
      ]]);
    },
  );

  await t.step("the stored key cannot be read back by the page", async () => {
    const stored = await aliceTab.evaluate<{ extractable: boolean; usages: string[] }>(`
      new Promise((resolve, reject) => {
        const open = indexedDB.open("ripple-wallet");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction("account").objectStore("account").get("me");
          get.onsuccess = () => {
            resolve({ extractable: get.result.key.extractable, usages: get.result.key.usages });
            open.result.close();
          };
        };
      })`);
    assert.deepEqual(stored, { extractable: false, usages: ["sign", "verify"] });
  });

  await t.step("carol extends 100 of credit to bob and sees bob's server confirm it", async () => {
    await visit(carolTab, "trustline");
    await carolTab.tabTo("trustline-peer");
    await carolTab.type(formatAccountRef(bob.ref));
    await carolTab.press("Tab");
    assert.equal(await carolTab.focused(), "trustline-amount");
    assert.equal(
      await carolTab.text("#trustline-amount-help"),
      "In hours, with 2 decimal places (e.g. 12.50).",
    );
    await carolTab.type("100");
    await carolTab.press("Enter");
    await carolTab.waitFor(
      `document.getElementById("trustline-status").textContent.includes("confirmed")`,
    );
    await screenshot(carolTab, "trustline");
  });

  let invoice = "";
  await t.step("carol makes an invoice for 25 from alice and copies it", async () => {
    await visit(carolTab, "receive");
    await carolTab.tabTo("receive-buyer");
    await carolTab.type(formatAccountRef(alice.ref));
    await carolTab.tabTo("receive-amount");
    await carolTab.type("25");
    await carolTab.press("Enter");
    await carolTab.waitFor(`!document.getElementById("receive-result").hidden`);
    invoice = await carolTab.evaluate("document.getElementById('receive-invoice').value");
    assert.match(
      invoice,
      new RegExp(
        `^ripple:carol@${carol.address}\\?amount=2500&id=[0-9a-f]{64}&label=[A-Za-z0-9_-]+&receipt=1$`,
      ),
    );
    await carolTab.allowClipboard();
    await carolTab.click("#receive-copy");
    await carolTab.waitFor(`document.getElementById("receive-copied").textContent !== ""`);
    assert.equal(await carolTab.text("#receive-copied"), "Invoice copied.");
    await screenshot(carolTab, "receive");
  });

  await t.step(
    // The invoice's id is a receipt's, so alice's server demands it: completed means that
    // every server on the way saw carol's secret (docs/protocol.md §6).
    "alice pastes the invoice, checks it and pays; her page follows it to the end",
    async () => {
      await visit(aliceTab, "pay");
      await aliceTab.tabTo("pay-invoice");
      await aliceTab.paste();
      assert.equal(
        await aliceTab.evaluate("document.getElementById('pay-invoice').value"),
        invoice,
      );
      const fields = await aliceTab.evaluate<string[]>(
        `["pay-seller", "pay-amount", "pay-id"].map((id) => document.getElementById(id).value)`,
      );
      assert.deepEqual(fields, [
        formatAccountRef(carol.ref),
        "25.00",
        invoice.match(/id=([0-9a-f]{64})/)![1],
      ]);
      await screenshot(aliceTab, "pay");
      await aliceTab.tabTo("pay-submit");
      await aliceTab.press("Enter");
      await aliceTab.waitFor(
        `location.hash === "#payment/${invoice.match(/id=([0-9a-f]{64})/)![1]}"`,
      );
      await aliceTab.waitFor(
        `document.getElementById("payment-state").textContent === "completed"`,
        20_000,
      );
      assert.equal(await aliceTab.text("#payment-role"), "buyer");
      assert.equal(await aliceTab.text("#payment-amount"), "25.00 hours");
      // The receipt: carol's secret, whose SHA-256 is the payment id.
      await aliceTab.waitFor(`!document.getElementById("payment-receipt-row").hidden`);
      const secret = fromHex(await aliceTab.text("#payment-receipt"));
      assert.equal(toHex(receiptId(secret)), invoice.match(/id=([0-9a-f]{64})/)![1]);
      await screenshot(aliceTab, "payment");
    },
  );

  await t.step("a payment no path can carry fails, and the page says why in words", async () => {
    await visit(aliceTab, "pay");
    const id = toHex(crypto.getRandomValues(new Uint8Array(32)));
    await aliceTab.tabTo("pay-seller");
    await aliceTab.type(formatAccountRef(carol.ref));
    await aliceTab.press("Tab");
    await aliceTab.type("1000");
    await aliceTab.press("Tab");
    await aliceTab.type(id);
    await aliceTab.press("Enter");
    await aliceTab.waitFor(`location.hash === "#payment/${id}"`);
    await aliceTab.waitFor(
      `document.getElementById("payment-state").textContent.startsWith("failed")`,
      20_000,
    );
    assert.equal(await aliceTab.text("#payment-state"), `failed: ${reasonText(Reason.NoPath)}`);
    await screenshot(aliceTab, "payment-failed");
  });

  await t.step("carol's page saw it complete too, and lists it", async () => {
    await carolTab.waitFor(`document.getElementById("receive-state").textContent === "completed"`);
    await visit(carolTab, "payments");
    await carolTab.waitFor(`!document.getElementById("payments-rows").ariaBusy`);
    const [row] = await carolTab.rows("#payments-rows");
    assert.deepEqual(row.slice(1), [
      `from ${formatAccountRef(alice.ref)}`,
      "25.00 hours",
      "completed",
    ]);
    await screenshot(carolTab, "payments");
  });

  await t.step("the balances the pages show are the CLI's", async () => {
    const aliceOwes = await cliBalance(alice, bob, `${counters.path}/alice`);
    const carolIsOwed = await cliBalance(carol, bob, `${counters.path}/carol`);
    assert.deepEqual([aliceOwes, carolIsOwed], [-2500n, 2500n]);
    // The CLI's counters are now ahead of the pages': their next requests are answered
    // `replay`, with the server's last counter, signed, and the pages move past it.
    const since = aliceServer.logs().length;
    await visit(aliceTab, "peers");
    await aliceTab.waitFor(`!document.getElementById("peers-rows").ariaBusy`);
    await waitForLog(aliceServer, ["replay", "account=alice"], { since });
    assert.equal(
      await pageStanding(aliceTab, bob),
      standing(aliceOwes, formatAccountRef(bob.ref), HOURS),
    );
    await visit(carolTab, "peers");
    await carolTab.waitFor(`!document.getElementById("peers-rows").ariaBusy`);
    assert.equal(
      await pageStanding(carolTab, bob),
      standing(carolIsOwed, formatAccountRef(bob.ref), HOURS),
    );
    assert.equal(
      await pageStanding(aliceTab, bob),
      `You owe ${formatAccountRef(bob.ref)} 25.00 hours`,
    );
    await screenshot(aliceTab, "peers");
  });

  await t.step(
    "a second tab of alice's shares her key and counter; both keep working",
    async () => {
      const second = await browser.open(alicePage);
      await second.waitFor(`document.querySelectorAll("#peers-rows tr").length === 1`);
      const since = aliceServer.logs().length;
      await Promise.all(
        [aliceTab, second].map(async (tab) => {
          for (let i = 0; i < 5; i++) {
            await tab.click("#peers-refresh");
            await tab.waitFor(`!document.getElementById("peers-refresh").disabled`);
          }
        }),
      );
      for (const tab of [aliceTab, second]) {
        assert.equal(await tab.text("#peers-error"), "");
        assert.equal(
          await pageStanding(tab, bob),
          `You owe ${formatAccountRef(bob.ref)} 25.00 hours`,
        );
      }
      assert.deepEqual(second.problems, []);
      const replays = aliceServer.logs().slice(since).filter((line) => line.includes(" replay "));
      assert.deepEqual(replays, [], "the tabs take turns, so their counters arrive in order");
    },
  );

  await t.step("every field has a label, every page a heading, every image a text", async () => {
    const unlabelled = await aliceTab.evaluate<string[]>(`[
      ...[...document.querySelectorAll("input, textarea, select")]
        .filter((field) => field.labels.length === 0).map((field) => field.id),
      ...[...document.querySelectorAll("main > section")]
        .filter((page) => page.querySelectorAll("h1").length !== 1).map((page) => page.id),
      ...[...document.querySelectorAll("img")].filter((img) => !img.hasAttribute("alt")).map((img) => img.src),
      ...[...document.querySelectorAll("button")].filter((b) => b.textContent.trim() === "").map((b) => b.id),
    ]`);
    assert.deepEqual(unlabelled, []);
  });

  await t.step("forgetting the key removes it from the browser", async () => {
    const tab = await browser.open(alicePage);
    tab.acceptDialogs();
    await tab.waitFor(`!document.getElementById("page-peers").hidden`);
    await tab.click("#forget");
    await tab.waitFor(`!document.getElementById("page-key").hidden`);
    const stored = await tab.evaluate<number>(`
      new Promise((resolve) => {
        const open = indexedDB.open("ripple-wallet");
        open.onsuccess = () => {
          const count = open.result.transaction("account").objectStore("account").count();
          count.onsuccess = () => (resolve(count.result), open.result.close());
        };
      })`);
    assert.equal(stored, 0);
    assert.deepEqual(tab.problems, []);
  });

  await t.step("no page logged an error or broke its Content-Security-Policy", () => {
    assert.deepEqual(aliceTab.problems, []);
    assert.deepEqual(carolTab.problems, []);
  });
});
