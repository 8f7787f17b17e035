/**
 * Seeds run side by side: each seed is a whole simulation of its own, fixed by the seed
 * alone, so `--jobs N` runs N of them at once, each in a worker of its own, and the
 * results are the same as one after another in one process.
 */

import { type PathStudy, type PathStudyOptions, runPathStudy } from "./paths.ts";
import { runSimulation, type SimOptions, type SimReport } from "./run.ts";

/** One seed's work: a simulation (and, if it fails, the search for a shorter one), or a path study. */
export type SeedTask =
  | { kind: "sim"; options: SimOptions; shrink: boolean }
  | { kind: "paths"; options: PathStudyOptions };

/** What one seed's work found, with the real time it took. */
export type SeedResult =
  | { kind: "sim"; report: SimReport; smallest?: SimOptions; realMs: number }
  | { kind: "paths"; study: PathStudy; realMs: number };

/** Runs one seed's work in this process. */
export async function runSeedTask(task: SeedTask): Promise<SeedResult> {
  const started = performance.now();
  if (task.kind === "paths") {
    const study = await runPathStudy(task.options);
    return { kind: "paths", study, realMs: performance.now() - started };
  }
  const report = await runSimulation(task.options);
  const realMs = performance.now() - started;
  const smallest = report.violations.length > 0 && task.shrink
    ? await shrink(task.options)
    : undefined;
  return { kind: "sim", report, smallest, realMs };
}

/**
 * Looks for a smaller failing run of the same seed: fewer steps, halving while it still
 * fails. The first steps of a seed are the same whatever the total, so a shorter failing
 * run is usually the same failure, reached sooner.
 */
export async function shrink(options: SimOptions): Promise<SimOptions> {
  let smallest = options;
  for (let steps = Math.floor(options.steps / 2); steps >= 1; steps = Math.floor(steps / 2)) {
    const candidate = { ...options, steps };
    if ((await runSimulation(candidate)).violations.length === 0) break;
    smallest = candidate;
  }
  return smallest;
}

/**
 * Runs `tasks` on `jobs` workers at once (1: one after another in this process), and hands
 * each result to `onResult` in the tasks' order, as soon as it and every one before it are
 * done. Workers load the simulator's modules, so they need read access to them; tasks
 * that carry functions (a planted bug, a log sink) cannot be sent to one and run here.
 */
export async function runSeedTasks(
  tasks: SeedTask[],
  jobs: number,
  onResult: (result: SeedResult, index: number) => void,
): Promise<void> {
  if (jobs <= 1 || tasks.length <= 1) {
    for (const [i, task] of tasks.entries()) onResult(await runSeedTask(task), i);
    return;
  }
  const done = new Map<number, SeedResult>();
  let next = 0;
  let handed = 0;
  const deliver = () => {
    while (done.has(handed)) {
      const result = done.get(handed)!;
      done.delete(handed);
      onResult(result, handed++);
    }
  };
  const workers: Worker[] = [];
  const work = async () => {
    const worker = new Worker(new URL("./seed_worker.ts", import.meta.url).href, {
      type: "module",
    });
    workers.push(worker);
    while (next < tasks.length) {
      const index = next++;
      done.set(index, await inWorker(worker, tasks[index]));
      deliver();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, work));
  } finally {
    // On a failure the others stop too, in the middle of their seeds.
    for (const worker of workers) worker.terminate();
  }
}

function inWorker(worker: Worker, task: SeedTask): Promise<SeedResult> {
  const seed = task.options.seed;
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<SeedResult | { kind: "error"; stack: string }>) => {
      const result = event.data;
      if (result.kind === "error") {
        reject(new Error(`seed ${seed} failed in its worker: ${result.stack}`));
      } else resolve(result);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      reject(new Error(`seed ${seed}: its worker failed: ${event.message}`));
    };
    worker.postMessage(task);
  });
}
