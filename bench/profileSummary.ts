import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * node --import tsx bench/profileSummary.ts <file.cpuprofile>
 * Where a host profile's busy time goes (CONVOY_HOST_CPU_PROF_DIR=<dir> npm run bench:convoy …
 * writes one; see docs/tuning.md). Each sample goes to the first bucket, in the order below, that
 * any frame of its stack belongs to; idle samples are left out.
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
  ['durable client (DurableClient, axios)', /node_modules\/(durable-functions\/lib\/src\/durableClient|axios)\//],
  ['orchestrator and entity replay (durable-functions)', /node_modules\/durable-functions\//],
  [
    'Table SDK (data-tables, core pipeline)',
    /node_modules\/@(azure|typespec)\/(data-tables|core-[a-z-]+|ts-http-runtime)\//,
  ],
  ['AMQP (rhea, service-bus SDK)', /node_modules\/(rhea|rhea-promise|@azure\/service-bus|@azure\/core-amqp)\//],
  ['local durable backend (stand-in)', /\/(local|packages\/functions-host\/src)\/durable\//],
  ['app (dist/src)', /\/dist\/src\//],
  ['local host (stand-in)', /\/(local\/host|packages\/functions-host\/src\/(host|worker))\//],
  ['@azure/functions', /node_modules\/@azure\/functions\//],
  ['module loading', /node:internal\/modules|\/tsx\/|esbuild/],
];

function main(): void {
  const file = process.argv[2];
  if (file === undefined) throw new Error('Usage: node --import tsx bench/profileSummary.ts <file.cpuprofile>');
  const profile = profileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const totals = new Map<string, number>();
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    if (byId.get(id)?.callFrame.functionName === '(idle)') return;
    busyUs += us;
    const urls: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at))
      urls.push(byId.get(at)?.callFrame.url ?? '');
    const bucket =
      buckets.find(([, pattern]) => urls.some((url) => pattern.test(url)))?.[0] ??
      'other (GC, native I/O, Node internals)';
    totals.set(bucket, (totals.get(bucket) ?? 0) + us);
  });
  console.log(`busy ${(busyUs / 1000).toFixed(0)} ms`);
  for (const [bucket, us] of [...totals].sort((a, b) => b[1] - a[1]))
    console.log(
      `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busyUs).toFixed(1).padStart(5)} %  ${bucket}`,
    );
}

main();
