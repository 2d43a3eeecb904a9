/**
 * The house rule of `src/`: an import only goes down a floor (or stays on its floor), and no files import each other
 * in a circle. The floors are written down here, once; README "Design" shows the same picture.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const sourceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/** Lowest first. A file's floor is that of its first path segment under `src/` (a top-level file: its name). */
const floors: ReadonlyArray<readonly string[]> = [
  ['domain', 'config', 'clock', 'errors', 'logger', 'expiring-map'],
  ['db', 'providers', 'mail', 'pdf', 'secrets'],
  ['audit', 'jobs', 'rate-limits', 'events'],
  ['billing', 'app-context'],
  ['http'],
  ['app', 'main', 'cli'],
];

function floorOf(file: string): number {
  const first = path.relative(sourceRoot, file).split(path.sep)[0]!.replace(/\.ts$/, '');
  const index = floors.findIndex((names) => names.includes(first));
  if (index < 0) throw new Error(`${path.relative(sourceRoot, file)} is on no floor: add "${first}" to the floors of test/unit/floors.test.ts`);
  return index;
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative imports (static, dynamic and type-only) of a file, resolved to the `.ts` files they name. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)].map((match) => match[1]!);
  return specifiers.map((specifier) => path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts'));
}

const files = sourceFiles(sourceRoot);
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const name = (file: string) => path.relative(sourceRoot, file);

test('every file of src/ is on a floor', () => {
  for (const file of files) floorOf(file);
});

test('no import runs up a floor', () => {
  const upward: string[] = [];
  for (const [file, imports] of graph) {
    for (const imported of imports) {
      if (floorOf(imported) > floorOf(file)) upward.push(`${name(file)} → ${name(imported)}`);
    }
  }
  assert.deepEqual(upward, [], `imports that run up a floor:\n${upward.join('\n')}`);
});

test('no files import each other, directly or in a longer circle', () => {
  const circles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const imported of graph.get(file) ?? []) {
      if (!graph.has(imported)) continue;
      const seen = state.get(imported);
      if (seen === 'open') circles.push([...stack.slice(stack.indexOf(imported)), imported].map(name).join(' → '));
      else if (seen === undefined) visit(imported);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  assert.deepEqual(circles, [], `import circles:\n${circles.join('\n')}`);
});

test('the check sees imports at all', () => {
  assert.ok([...graph.values()].some((imports) => imports.length > 0));
  assert.ok(files.length > 50);
});

test('src/ writes SQL only with the sql tag (no plain text statements with hand-numbered parameters)', () => {
  const plain: string[] = [];
  for (const file of files) {
    if (name(file) === path.join('db', 'database.ts')) continue; // the driver adapter itself
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\.query(?:<[^()]*?>)?\(\s*['"`]/g)) {
      plain.push(`${name(file)}:${text.slice(0, match.index).split('\n').length}`);
    }
  }
  assert.deepEqual(plain, [], `statements written as plain text:\n${plain.join('\n')}`);
});
