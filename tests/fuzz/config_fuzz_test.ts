/** Fuzzing ripple.conf: any text is refused with ConfigError or read into known settings that build a configuration within every range. */

import assert from "node:assert/strict";
import {
  buildConfig,
  ConfigError,
  NUMBER_SETTINGS,
  parseConfigLines,
  parseConfigText,
  TEXT_SETTINGS,
} from "../../src/cli/config.ts";
import { isCanonicalAddress } from "../../src/wire/names.ts";
import { fc, refusedOnlyWith, serverAddress } from "./_fuzz.ts";

const KNOWN: string[] = [...TEXT_SETTINGS, ...Object.keys(NUMBER_SETTINGS)];
/** Names every object answers to through its prototype: `constructor`, `toString`, `__proto__`… */
const INHERITED = Object.getOwnPropertyNames(Object.prototype);

/** A value for a setting: near the ranges, an address, a word, or anything on one line. */
const value: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 0, max: 100_000_000 }).map(String),
  fc.constantFrom("0", "-1", "1e3", "0x10", " 100", "100.5", "", "text", "json", "debug", "warn"),
  serverAddress,
  fc.constantFrom("0.0.0.0", "0.0.0.0:2012", "127.0.0.1:0", "Ripple.Example", "[::1]:2012"),
  fc.string({ unit: "binary", maxLength: 20 }).map((text) => text.replace(/[\r\n]/g, "")),
);

const settingLine = (name: fc.Arbitrary<string>) =>
  fc
    .tuple(name, fc.constantFrom("=", " = ", "\t=  ", "=="), value, fc.constantFrom("", " ", "\r"))
    .map(([key, eq, text, end]) => `${key}${eq}${text}${end}`);

/** Lines of a configuration file: settings known or not, comments, blanks and noise. */
const configText = (name: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        { weight: 4, arbitrary: settingLine(name) },
        { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((text) => `# ${text}`) },
        { weight: 1, arbitrary: fc.constantFrom("", "   ", "\r", "\t#") },
        { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
      ),
      { maxLength: 8 },
    )
    .map((lines) => lines.join("\n"));

const anyName = fc.oneof(
  fc.constantFrom(...KNOWN),
  fc.constantFrom(...INHERITED),
  fc.string({ maxLength: 12 }),
);

Deno.test("any configuration text is refused with ConfigError or read", () => {
  fc.assert(
    fc.property(fc.oneof(configText(anyName), fc.string({ unit: "binary" })), (text) => {
      refusedOnlyWith(ConfigError, () => parseConfigText(text, "ripple.conf"));
    }),
    { seed: 0xc0f10001, numRuns: 1000 },
  );
});

// Fails on src/cli/config.ts as of this writing: `name in NUMBER_SETTINGS` also holds for
// names inherited from Object.prototype, so `constructor = 1` is read and silently ignored
// instead of refused as an unknown setting.
Deno.test("only documented settings are read: any other name is refused as unknown", () => {
  fc.assert(
    fc.property(configText(anyName), (text) => {
      const settings = refusedOnlyWith(ConfigError, () => parseConfigText(text, "ripple.conf"));
      for (const name of settings?.keys() ?? []) {
        assert.ok(KNOWN.includes(name), `"${name}" was read as a setting`);
      }
    }),
    { seed: 0xc0f10002, numRuns: 500 },
  );
});

Deno.test("settings read from a file build a configuration within every range, or ConfigError", () => {
  fc.assert(
    fc.property(configText(fc.constantFrom(...KNOWN)), (text) => {
      const lines = refusedOnlyWith(ConfigError, () => parseConfigLines(text, "ripple.conf"));
      if (lines === undefined) return;
      const config = refusedOnlyWith(
        ConfigError,
        () => buildConfig(lines.values, (name) => lines.where.get(name) ?? "the default"),
      );
      if (config === undefined) return;
      assert.ok(isCanonicalAddress(config.address), config.address);
      assert.ok(config.listen.port >= 1 && config.listen.port <= 65535);
      assert.ok(config.logFormat === "text" || config.logFormat === "json");
      assert.ok(["debug", "info", "warn", "error"].includes(config.logLevel));
      for (const setting of Object.values(NUMBER_SETTINGS)) {
        const limit = config.limits[setting.field];
        assert.ok(Number.isInteger(limit) && limit >= setting.min && limit <= setting.max);
      }
      assert.ok(config.limits.retryMaxMs >= config.limits.retryBaseMs);
      assert.ok(config.limits.stepRetryMaxMs >= config.limits.stepRetryBaseMs);
    }),
    { seed: 0xc0f10003, numRuns: 1000 },
  );
});

Deno.test("distinct known settings are read back exactly as written, trimmed", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.constantFrom(...KNOWN), { maxLength: KNOWN.length }),
      fc.array(value, { minLength: KNOWN.length, maxLength: KNOWN.length }),
      (names, values) => {
        const text = names.map((name, i) => `${name} = ${values[i]}`).join("\n");
        const expected = new Map(names.map((name, i) => [name, values[i].trim()]));
        assert.deepEqual(parseConfigText(text, "ripple.conf"), expected);
      },
    ),
    { seed: 0xc0f10004, numRuns: 300 },
  );
});
