// The generator as a library: .api file → { json text, TypeScript text }.

import * as path from 'node:path';
import { modelToJson, pythonJsonDumps, type ApiJson } from './json.js';
import { ApiCompiler } from './model.js';
import { emitTypeScript } from './ts-emit.js';

export interface GeneratedModule {
  module: string;
  /** Base file name of the input, e.g. `memclnt.api`. */
  apiFile: string;
  json: ApiJson;
  /** Exactly what is written to `<apiFile>.json` (vppapigen prints a trailing newline). */
  jsonText: string;
  tsText: string;
}

export function generateModule(file: string, includeDirs: string[] = []): GeneratedModule {
  const model = new ApiCompiler({ includeDirs }).compileFile(file);
  const jsonText = pythonJsonDumps(modelToJson(model)) + '\n';
  // Re-read so that number-like literals (1.0) become plain JSON values, as any JSON consumer sees them.
  const json = JSON.parse(jsonText) as ApiJson;
  const apiFile = path.basename(file);
  return { module: model.module, apiFile, json, jsonText, tsText: emitTypeScript(json, apiFile) };
}
