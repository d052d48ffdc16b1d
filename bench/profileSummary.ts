import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * node --import tsx bench/profileSummary.ts [--drain] <file.cpuprofile>
 * Where a host profile's busy time goes (CONVOY_HOST_CPU_PROF_DIR=<dir> npm run bench:convoy …
 * writes one; see docs/tuning.md). Each sample goes to the first bucket, in the order below, that
 * any frame of its stack belongs to; idle samples are left out. --drain keeps only the samples from
 * the first to the last Service Bus dispatch (the drain, without start-up and the reads after it).
 */

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

const buckets: readonly (readonly [string, RegExp])[] = [
  [
    'durable client (DurableClient, axios)',
    /node_modules\/(durable-functions\/lib\/src\/durableClient|axios|follow-redirects)\//,
  ],
  ['orchestrator and entity replay (durable-functions)', /node_modules\/durable-functions\//],
  [
    'Table SDK (data-tables, core pipeline)',
    /node_modules\/@(azure|typespec)\/(data-tables|core-client|core-rest-pipeline|core-tracing|ts-http-runtime)\//,
  ],
  ['AMQP (rhea, service-bus SDK)', /node_modules\/(rhea|rhea-promise|@azure\/service-bus|@azure\/core-amqp)\//],
  ['local durable backend (stand-in)', /\/(local|packages\/functions-host\/src)\/durable\//],
  ['app (dist/src, bench/lib/nullSaveApp)', /\/(dist\/src|bench\/lib\/nullSaveApp)\//],
  ['local host: Service Bus receiving and settling', /\/packages\/functions-host\/src\/host\/serviceBus\//],
  ['local host: invocations and HTTP', /\/(local\/host|packages\/functions-host\/src\/(host|worker))\//],
  ['@azure/functions', /node_modules\/@azure\/functions\//],
  ['module loading', /node:internal\/modules|\/tsx\/|esbuild/],
];

type Profile = z.infer<typeof profileSchema>;

/** Each sample's stack, leaf first. */
function stacks(profile: Profile): { functionName: string; url: string }[][] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  return profile.samples.map((id) => {
    const frames: { functionName: string; url: string }[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame !== undefined) frames.push(frame);
    }
    return frames;
  });
}

/** --drain: from the first to the last Service Bus dispatch, without start-up and the bench's reads after. */
function drainWindow(all: readonly { functionName: string }[][]): [number, number] {
  const dispatches = all.map((frames) => frames.some((frame) => frame.functionName === 'dispatchAndSettle'));
  const first = dispatches.indexOf(true);
  if (first === -1) throw new Error('--drain: the profile has no Service Bus dispatch (dispatchAndSettle)');
  return [first, dispatches.lastIndexOf(true)];
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((arg) => !arg.startsWith('--'));
  if (file === undefined)
    throw new Error('Usage: node --import tsx bench/profileSummary.ts [--drain] <file.cpuprofile>');
  const profile = profileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const all = stacks(profile);
  const [from, to] = args.includes('--drain') ? drainWindow(all) : [0, all.length - 1];
  const totals = new Map<string, number>();
  let busyUs = 0;
  let wallUs = 0;
  for (let i = from; i <= to; i++) {
    const us = profile.timeDeltas[i] ?? 0;
    const frames = all[i] ?? [];
    wallUs += us;
    if (frames[0]?.functionName === '(idle)') continue;
    busyUs += us;
    const bucket =
      buckets.find(([, pattern]) => frames.some((frame) => pattern.test(frame.url)))?.[0] ??
      (frames[0]?.functionName === '(garbage collector)'
        ? 'garbage collection'
        : 'other (native I/O: socket writes, Node internals)');
    totals.set(bucket, (totals.get(bucket) ?? 0) + us);
  }
  console.log(`busy ${(busyUs / 1000).toFixed(0)} ms of ${(wallUs / 1e6).toFixed(1)} s`);
  for (const [bucket, us] of [...totals].sort((a, b) => b[1] - a[1]))
    console.log(
      `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busyUs).toFixed(1).padStart(5)} %  ${bucket}`,
    );
}

main();
