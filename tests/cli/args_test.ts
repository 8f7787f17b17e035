import assert from "node:assert/strict";
import { firstPositional, parseCommand, UsageError } from "../../src/cli/args.ts";

const OPTIONS = {
  id: { type: "string" },
  datadir: { type: "string" },
  json: { type: "boolean" },
} as const;

function usage(argv: string[]): string {
  try {
    parseCommand(argv, OPTIONS, "help", [0, 3]);
  } catch (error) {
    assert.ok(error instanceof UsageError);
    return error.message;
  }
  assert.fail(`${argv.join(" ")} was accepted`);
}

Deno.test("a bad command line is refused in the CLI's own words, with nothing left unclosed", () => {
  assert.equal(usage(["pay", "--bogus"]), "unknown option --bogus");
  assert.equal(usage(["pay", "bob@b", "-5"]), '"-5" is negative; amounts cannot be negative');
  assert.equal(usage(["pay", "bob@b", "-25.5"]), '"-25.5" is negative; amounts cannot be negative');
  assert.equal(usage(["pay", "--id"]), "--id needs a value");
  assert.equal(usage(["pay", "--id", "--json"]), "--id needs a value");
  assert.equal(usage(["--json=yes"]), "--json takes no value");
  assert.equal(usage(["a", "b", "c", "d"]), 'unexpected argument "d"');
});

Deno.test("an option's value may start with a dash when it is not an option", () => {
  const parsed = parseCommand(["--datadir", "-data", "x"], OPTIONS, "help", [1, 1]);
  assert.equal(parsed?.values.datadir, "-data");
  assert.deepEqual(parsed?.positionals, ["x"]);
});

Deno.test("the subcommand is found past options and their values, for its help", () => {
  assert.equal(firstPositional(["--id", "pay", "receive", "--help"], OPTIONS), "receive");
  assert.equal(firstPositional(["--json", "--help"], OPTIONS), undefined);
});
