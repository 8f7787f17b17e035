/** The features a node runs, built with what each needs. */

import type { DisplayUnit, Limits } from "../core/config.ts";
import type { Feature } from "../core/context.ts";
import { createServerInfo } from "../info/server_info.ts";
import { createLabels } from "../paths/labels.ts";
import { createPayments } from "../payments/payments.ts";
import type { SearchEngine } from "../paths/search.ts";
import { createTrustlines } from "../trustlines/trustlines.ts";

/** Options shared by the features. */
export interface FeatureOptions {
  limits: Limits;
  random: () => number;
  /** This server's canonical address. */
  address: string;
  /** How clients show amounts (client command 11). */
  display: DisplayUnit;
}

/** The features of a node, and the search engine (for status and the simulator's checks). */
export interface Features {
  list: Feature[];
  search: SearchEngine;
}

/** Builds the features in the order their timers run. */
export function createFeatures(options: FeatureOptions): Features {
  const labels = createLabels({ trees: options.limits.labelTrees, address: options.address });
  const payments = createPayments({ ...options, labels: labels.table });
  return {
    list: [createTrustlines(options), labels, payments, createServerInfo(options)],
    search: payments.engine,
  };
}
