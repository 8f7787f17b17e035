/**
 * Headless Chromium, driven through the DevTools protocol over its WebSocket: one browser
 * per test, a fresh profile, pages that type, press keys, click, read and take screenshots.
 */

import assert from "node:assert/strict";

/** Debian's Chromium; `.ci/run` installs it when it is missing. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * The flags a closed network needs (no calls home, no QUIC, no first-run work) and the
 * container needs (no sandbox, no GPU).
 */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--remote-debugging-address=127.0.0.1",
  "--remote-debugging-port=0",
];

const START_TIMEOUT_MS = 20_000;
const COMMAND_TIMEOUT_MS = 15_000;

type Message = {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
};

/** A running Chromium and its DevTools connection; dispose to close both. */
export class Browser implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #profile: string;
  #socket: WebSocket;
  #closed: Promise<void>;
  #stderr: Promise<void>;
  #next = 1;
  #waiting = new Map<number, PromiseWithResolvers<Record<string, unknown>>>();
  #listeners = new Set<(message: Message) => void>();

  private constructor(
    child: Deno.ChildProcess,
    profile: string,
    socket: WebSocket,
    stderr: Promise<void>,
  ) {
    this.#child = child;
    this.#profile = profile;
    this.#socket = socket;
    this.#stderr = stderr;
    this.#closed = new Promise((resolve) => socket.addEventListener("close", () => resolve()));
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data) as Message;
      if (message.id !== undefined) {
        const waiter = this.#waiting.get(message.id);
        this.#waiting.delete(message.id);
        if (message.error) waiter?.reject(new Error(`DevTools: ${message.error.message}`));
        else waiter?.resolve(message.result ?? {});
      } else {
        for (const listener of this.#listeners) listener(message);
      }
    });
  }

  /** Starts Chromium with a fresh profile and connects to it; throws, loudly, if it is not installed. */
  static async launch(): Promise<Browser> {
    try {
      await Deno.stat(CHROMIUM);
    } catch {
      throw new Error(
        `${CHROMIUM} is missing: the browser test needs Debian's Chromium ` +
          "(apt-get update && apt-get install -y chromium; .ci/run does this)",
      );
    }
    const profile = await Deno.makeTempDir({ prefix: "ripple-chromium-" });
    const child = new Deno.Command(CHROMIUM, {
      args: [...FLAGS, `--user-data-dir=${profile}`, "about:blank"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const endpoint = Promise.withResolvers<string>();
    const lines: string[] = [];
    const stderr = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        lines.push(chunk);
        const found = lines.join("").match(/DevTools listening on (ws:\/\/\S+)/);
        if (found) endpoint.resolve(found[1]);
      }
      endpoint.reject(new Error(`Chromium exited before it listened:\n${lines.join("")}`));
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const url = await Promise.race([
        endpoint.promise,
        new Promise<never>((_, reject) =>
          timer = setTimeout(
            () => reject(new Error(`Chromium did not start:\n${lines.join("")}`)),
            START_TIMEOUT_MS,
          )
        ),
      ]);
      const socket = new WebSocket(url);
      await new Promise((resolve, reject) => {
        socket.addEventListener("open", resolve, { once: true });
        socket.addEventListener("error", () => reject(new Error("no DevTools connection")), {
          once: true,
        });
      });
      return new Browser(child, profile, socket, stderr);
    } catch (error) {
      child.kill("SIGKILL");
      await child.status;
      await stderr.catch(() => {});
      await Deno.remove(profile, { recursive: true });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends one DevTools command (to a page when `sessionId` is given) and returns its result. */
  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    const id = this.#next++;
    const waiter = Promise.withResolvers<Record<string, unknown>>();
    this.#waiting.set(id, waiter);
    this.#socket.send(JSON.stringify({ id, method, params, sessionId }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error(`DevTools ${method} took too long`)),
        COMMAND_TIMEOUT_MS,
      )
    );
    return Promise.race([waiter.promise, late]).finally(() => clearTimeout(timer));
  }

  /** Calls `listener` with every event, until the returned function is called. */
  listen(listener: (message: Message) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Opens a new tab at `url` and waits until it has loaded. */
  async open(url: string): Promise<Tab> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    const tab = new Tab(this, sessionId as string);
    await tab.start();
    await tab.goto(url);
    return tab;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.send("Browser.close").catch(() => {});
      this.#socket.close();
      await this.#closed;
    } finally {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const exited = await Promise.race([
        this.#child.status,
        new Promise<null>((resolve) => timer = setTimeout(resolve, 5_000, null)),
      ]);
      clearTimeout(timer);
      if (exited === null) {
        this.#child.kill("SIGKILL");
        await this.#child.status;
      }
      await this.#stderr.catch(() => {});
      await Deno.remove(this.#profile, { recursive: true });
    }
  }
}

const KEYS: Record<string, { code: string; keyCode: number; text?: string }> = {
  Enter: { code: "Enter", keyCode: 13, text: "\r" },
  Tab: { code: "Tab", keyCode: 9 },
  Space: { code: "Space", keyCode: 32, text: " " },
};

/** One tab: a page under test. */
export class Tab {
  readonly #browser: Browser;
  readonly #session: string;
  /** Exceptions and console errors (a Content-Security-Policy violation is one), to assert there were none. */
  readonly problems: string[] = [];

  constructor(browser: Browser, session: string) {
    this.#browser = browser;
    this.#session = session;
  }

  /** Enables the domains the tab is watched through and gives it a desktop-sized window. */
  async start(): Promise<void> {
    this.#browser.listen((message) => {
      if (message.sessionId !== this.#session) return;
      const params = message.params ?? {};
      if (message.method === "Runtime.exceptionThrown") {
        this.problems.push(JSON.stringify(params.exceptionDetails));
      } else if (message.method === "Log.entryAdded") {
        const entry = params.entry as { level: string; text: string };
        if (entry.level === "error") this.problems.push(entry.text);
      }
    });
    for (const domain of ["Page", "Runtime", "Log"]) await this.#send(`${domain}.enable`);
    await this.#send("Emulation.setDeviceMetricsOverride", {
      width: 1024,
      height: 720,
      deviceScaleFactor: 1,
      mobile: false,
    });
    await this.#send("Emulation.setFocusEmulationEnabled", { enabled: true });
  }

  /** Loads `url` and waits until the document has loaded. */
  async goto(url: string): Promise<void> {
    await this.#send("Page.navigate", { url });
    await this.waitFor(`document.readyState === "complete" && location.href !== "about:blank"`);
  }

  /** Evaluates `expression` in the page (awaiting a promise) and returns its value. */
  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.#send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
      userGesture: true,
    });
    if (result.exceptionDetails) {
      throw new Error(`in the page: ${JSON.stringify(result.exceptionDetails)}`);
    }
    return (result.result as { value: T }).value;
  }

  /**
   * Waits until `expression` is truthy in the page; throws, with `what`, after `timeoutMs`.
   * While the page loads, its elements may not be there yet: that counts as not yet.
   */
  async waitFor(expression: string, timeoutMs = 10_000, what = expression): Promise<void> {
    const end = Date.now() + timeoutMs;
    const check = `(() => { try { return Boolean(${expression}); } catch { return false; } })()`;
    while (!(await this.evaluate<boolean>(check).catch(() => false))) {
      if (Date.now() > end) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The text of the element `selector` (empty when there is none). */
  text(selector: string): Promise<string> {
    return this.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? ""`);
  }

  /** The text of every cell of each row of the table body `selector`. */
  rows(selector: string): Promise<string[][]> {
    return this.evaluate(
      `[...document.querySelectorAll(${
        JSON.stringify(`${selector} tr`)
      })].map((row) => [...row.cells].map((cell) => cell.textContent))`,
    );
  }

  /** The id (or tag) of the element that has the keyboard focus. */
  focused(): Promise<string> {
    return this.evaluate(`document.activeElement?.id || document.activeElement?.tagName || ""`);
  }

  /** Types `text` into whatever has the focus, as a keyboard would insert it. */
  async type(text: string): Promise<void> {
    await this.#send("Input.insertText", { text });
  }

  /** Presses and releases a key: Enter, Tab or Space, optionally with Shift. */
  async press(key: keyof typeof KEYS, shift = false): Promise<void> {
    const { code, keyCode, text } = KEYS[key];
    const common = {
      key: key === "Space" ? " " : key,
      code,
      windowsVirtualKeyCode: keyCode,
      modifiers: shift ? 8 : 0,
    };
    await this.#send("Input.dispatchKeyEvent", { type: "keyDown", ...common, text });
    await this.#send("Input.dispatchKeyEvent", { type: "keyUp", ...common });
  }

  /** Pastes the clipboard into whatever has the focus, as Ctrl+V would. */
  async paste(): Promise<void> {
    const common = { key: "v", code: "KeyV", windowsVirtualKeyCode: 86, modifiers: 2 };
    await this.#send("Input.dispatchKeyEvent", { type: "keyDown", ...common, commands: ["paste"] });
    await this.#send("Input.dispatchKeyEvent", { type: "keyUp", ...common });
  }

  /** Presses Tab until the element `id` has the focus (at most `limit` times): a keyboard user's way there. */
  async tabTo(id: string, limit = 30): Promise<void> {
    for (let i = 0; i < limit; i++) {
      if ((await this.focused()) === id) return;
      await this.press("Tab");
    }
    assert.fail(`#${id} was not reached with ${limit} presses of Tab`);
  }

  /** Clicks the middle of the element `selector` with the mouse (its tab brought to the front). */
  async click(selector: string): Promise<void> {
    await this.#send("Page.bringToFront");
    const box = await this.evaluate<{ x: number; y: number } | null>(`(() => {
      const element = document.querySelector(${JSON.stringify(selector)});
      if (!element) return null;
      element.scrollIntoView({ block: "center" });
      const box = element.getBoundingClientRect();
      return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    })()`);
    assert.ok(box !== null, `no element ${selector} to click`);
    for (const type of ["mousePressed", "mouseReleased"]) {
      await this.#send("Input.dispatchMouseEvent", {
        type,
        x: box.x,
        y: box.y,
        button: "left",
        clickCount: 1,
      });
    }
  }

  /** Allows the page's origin to write and read the clipboard, as a member's click would. */
  async allowClipboard(): Promise<void> {
    const origin = await this.evaluate<string>("location.origin");
    await this.#browser.send("Browser.grantPermissions", {
      origin,
      permissions: ["clipboardReadWrite", "clipboardSanitizedWrite"],
    });
  }

  /** Answers every `confirm()` of the page with OK, as a member who means it would. */
  acceptDialogs(): void {
    this.#browser.listen((message) => {
      if (
        message.sessionId === this.#session && message.method === "Page.javascriptDialogOpening"
      ) {
        this.#send("Page.handleJavaScriptDialog", { accept: true }).catch(() => {});
      }
    });
  }

  /** A PNG of the whole page (brought to the front first: a tab behind another is not drawn). */
  async screenshot(): Promise<Uint8Array> {
    await this.#send("Page.bringToFront");
    // The mouse out of the way, so that no link is drawn hovered.
    await this.#send("Input.dispatchMouseEvent", { type: "mouseMoved", x: 0, y: 0 });
    const { data } = await this.#send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
    });
    return Uint8Array.from(atob(data as string), (c) => c.charCodeAt(0));
  }

  #send(method: string, params: Record<string, unknown> = {}) {
    return this.#browser.send(method, params, this.#session);
  }
}
