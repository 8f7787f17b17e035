/** The features a node runs, built with what each needs. */

import type { Limits } from "../core/config.ts";
import type { Feature } from "../core/context.ts";
import { createTrustlines } from "../trustlines/trustlines.ts";

/** Options shared by the features. */
export interface FeatureOptions {
  limits: Limits;
  random: () => number;
}

/** Builds the features in the order their timers run. */
export function createFeatures(options: FeatureOptions): Feature[] {
  return [createTrustlines(options)];
}
