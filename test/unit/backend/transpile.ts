// Worker threads run plain JavaScript: transpile the TypeScript a test worker needs into a temp tree
// (same relative layout, so `./x.js` imports resolve) with typescript's transpileModule.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Transpiles every .ts under the given repo-relative dirs/files; returns the temp root and a cleanup. */
export function transpileTree(paths: string[]): { root: string; cleanup: () => void } {
  const out = mkdtempSync(join(tmpdir(), 'onionplane-worker-'));
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  // The native shim is found relative to the package root; point the copy at the real build.
  if (existsSync(join(ROOT, 'build'))) symlinkSync(join(ROOT, 'build'), join(out, 'build'));
  for (const rel of paths) {
    const abs = join(ROOT, rel);
    const files = statSync(abs).isDirectory() ? tsFiles(abs) : [abs];
    for (const f of files) {
      const js = ts.transpileModule(readFileSync(f, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
        fileName: f,
      }).outputText;
      const dest = join(out, relative(ROOT, f)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, js);
    }
  }
  return { root: out, cleanup: () => rmSync(out, { recursive: true, force: true }) };
}
