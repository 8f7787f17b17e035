/**
 * The integration harness: real `ripple serve` processes on loopback addresses
 * (127.0.0.2 to 127.0.0.7, each on a free port), the CLI, accounts, peers and clients
 * around them, raw datagrams, and checks that a datadir did not change.
 *
 * @example
 * ```ts ignore
 * await using group = await startServers(["127.0.0.2", "127.0.0.3"]);
 * const [a, b] = group.servers;
 * const alice = await addAccount(a, "alice");
 * const bob = await addAccount(b, "bob");
 * await addPeers(alice, bob);
 * await setTrustline(clientFor(alice), bob.ref, 100n);
 * ```
 */

export * from "./_accounts.ts";
export * from "./_raw.ts";
export * from "./_server.ts";
export * from "./_wait.ts";
