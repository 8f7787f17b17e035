import assert from "node:assert/strict";
import {
  chooseProfile,
  defaultProfile,
  listProfiles,
  loadProfile,
  ProfileError,
  removeProfile,
  saveProfile,
  setDefaultProfile,
} from "../../src/cli/profile.ts";

const key = (byte: number) => new Uint8Array(32).fill(byte);

async function withHome(run: (home: string) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "ripple-profiles-" });
  const previous = Deno.env.get("RIPPLE_PROFILE");
  Deno.env.delete("RIPPLE_PROFILE");
  try {
    await run(home);
  } finally {
    if (previous === undefined) Deno.env.delete("RIPPLE_PROFILE");
    else Deno.env.set("RIPPLE_PROFILE", previous);
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("a profile keeps server, account and key, in a file only its owner reads", async () => {
  await withHome(async (home) => {
    await saveProfile(home, {
      name: "work",
      server: "127.0.0.2:4000",
      account: "alice",
      key: key(1),
    }, false);
    const profile = await loadProfile(home, "work");
    assert.deepEqual(profile, {
      name: "work",
      server: "127.0.0.2:4000",
      account: "alice",
      key: key(1),
    });
    assert.equal((await Deno.stat(`${home}/profiles/work.conf`)).mode! & 0o777, 0o600);
    await assert.rejects(
      saveProfile(home, { ...profile, key: key(2) }, false),
      /profile work already exists; remove it first .* or replace it with --force/,
    );
    await saveProfile(home, { ...profile, key: key(2) }, true);
    assert.deepEqual((await loadProfile(home, "work")).key, key(2));
  });
});

Deno.test("the profile used: --profile, else RIPPLE_PROFILE, else the default, else the only one", async () => {
  await withHome(async (home) => {
    await assert.rejects(
      chooseProfile(home, undefined),
      /no profile yet: add one with `ripple profile add/,
    );
    await saveProfile(home, { name: "a", server: "h", account: "alice", key: key(1) }, false);
    assert.equal((await chooseProfile(home, undefined)).name, "a");
    await saveProfile(home, { name: "b", server: "h", account: "bob", key: key(2) }, false);
    await assert.rejects(
      chooseProfile(home, undefined),
      /several profiles \(a, b\) and none is the default/,
    );
    await setDefaultProfile(home, "b");
    assert.equal((await chooseProfile(home, undefined)).name, "b");
    Deno.env.set("RIPPLE_PROFILE", "a");
    assert.equal((await chooseProfile(home, undefined)).name, "a");
    assert.equal((await chooseProfile(home, "b")).name, "b");
    await assert.rejects(chooseProfile(home, "c"), /there is no profile "c" \(there are: a, b\)/);
    Deno.env.delete("RIPPLE_PROFILE");
    await removeProfile(home, "b");
    assert.equal(await defaultProfile(home), undefined);
    assert.deepEqual(await listProfiles(home), ["a"]);
  });
});

Deno.test("a damaged profile or a bad name is refused with what is wrong", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(`${home}/profiles`);
    await Deno.writeTextFile(`${home}/profiles/x.conf`, "server = h\naccount = alice\n");
    await assert.rejects(loadProfile(home, "x"), ProfileError, "profile x is damaged: ");
    await assert.rejects(loadProfile(home, "x"), /no key/);
    await Deno.writeTextFile(`${home}/profiles/x.conf`, "server = h\naccount = alice\nkey = 12\n");
    await assert.rejects(loadProfile(home, "x"), /a key is 64 lower-case hex characters/);
    await assert.rejects(loadProfile(home, "../etc"), /not a valid profile name/);
  });
});
