/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) and prints each figure beside the
 * baseline measured in the same run. BENCH_SECONDS sets the length of each load (default 5 s).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchFigure } from './support.js';

const directory = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(directory)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => only.length === 0 || only.some((wanted) => name.includes(wanted)))
  .sort();

const all: Array<BenchFigure & { bench: string }> = [];
for (const file of files) {
  const bench = file.replace(/\.bench\.ts$/, '');
  process.stdout.write(`running ${bench}…\n`);
  const module: { run: () => Promise<BenchFigure[]> } = await import(pathToFileURL(path.join(directory, file)).href);
  try {
    const figures = await module.run();
    for (const figure of figures) {
      all.push({ ...figure, bench });
      console.log(
        `  ${figure.name}: ${figure.value} ${figure.unit} vs baseline ${figure.baseline} ${figure.unit} → ratio ${figure.ratio}${figure.note ? ` (${figure.note})` : ''}`,
      );
    }
  } catch (error) {
    console.error(`  ${bench} failed:`, error);
    process.exitCode = 1;
  }
}
console.log('\nsummary');
console.table(all.map((f) => ({ bench: f.bench, figure: f.name, value: `${f.value} ${f.unit}`, baseline: `${f.baseline} ${f.unit}`, ratio: f.ratio, note: f.note ?? '' })));
process.exit(process.exitCode ?? 0);
