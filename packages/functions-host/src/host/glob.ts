import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Expands package.json `main` the way the worker's globby call does for the patterns apps use:
 * brace alternatives (nested), `*`, `?` and `**` segments. Paths are relative to `root`, in the order
 * of the brace alternatives, sorted within each, without duplicates. Dotfiles are not matched.
 */
export function expandGlob(pattern: string, root: string): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const alternative of expandBraces(pattern.replace(/^\.\//, ''))) {
    for (const file of matchSegments(
      alternative.split('/').filter((s) => s !== '' && s !== '.'),
      root,
      '',
    ).sort()) {
      if (!seen.has(file)) {
        seen.add(file);
        result.push(file);
      }
    }
  }
  return result;
}

export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '{') depth++;
    else if (char === '}') {
      depth--;
      if (depth === 0) {
        const head = pattern.slice(0, open);
        const tail = pattern.slice(i + 1);
        const bounds = [open, ...commas, i];
        const options: string[] = [];
        for (let k = 0; k + 1 < bounds.length; k++) options.push(pattern.slice((bounds[k] ?? 0) + 1, bounds[k + 1]));
        return options.flatMap((option) => expandBraces(head + option + tail));
      }
    } else if (char === ',' && depth === 1) commas.push(i);
  }
  return [pattern]; // unbalanced: treat literally, as globby does
}

function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (const char of segment) {
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function entries(dir: string): { name: string; isDir: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((entry) => ({
      name: entry.name,
      isDir: entry.isDirectory() || (entry.isSymbolicLink() && statSync(join(dir, entry.name)).isDirectory()),
    }));
  } catch {
    return [];
  }
}

function matchSegments(segments: string[], root: string, prefix: string): string[] {
  const [segment, ...rest] = segments;
  if (segment === undefined) return [];
  const dir = join(root, prefix);
  if (segment === '**') {
    // `**` matches zero or more directories.
    const here = matchSegments(rest, root, prefix);
    const deeper = entries(dir)
      .filter((e) => e.isDir && !e.name.startsWith('.') && e.name !== 'node_modules')
      .flatMap((e) => matchSegments(segments, root, join(prefix, e.name)));
    return [...here, ...deeper];
  }
  if (!/[*?]/.test(segment)) {
    const path = join(prefix, segment);
    if (rest.length === 0) return isFile(join(root, path)) ? [path] : [];
    return matchSegments(rest, root, path);
  }
  const regExp = segmentRegExp(segment);
  return entries(dir)
    .filter((e) => !e.name.startsWith('.') && regExp.test(e.name))
    .flatMap((e) => {
      const path = join(prefix, e.name);
      if (rest.length === 0) return e.isDir ? [] : [path];
      return e.isDir ? matchSegments(rest, root, path) : [];
    });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
