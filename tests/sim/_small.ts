/** The small run the simulation tests share: 5 servers, 20 accounts, 150 steps, every network fault, a crash every 3 s. */

import { STANDARD_FAULTS } from "../../src/sim/main.ts";
import { DEFAULT_SIM, type SimOptions } from "../../src/sim/run.ts";

export const SMALL: SimOptions = {
  ...DEFAULT_SIM,
  servers: 5,
  accounts: 20,
  steps: 150,
  faults: { ...STANDARD_FAULTS, crashEveryMs: 3_000 },
};
