// The core's CLI commands.

import type { Main } from '../../core/main.js';
import { registerBufferCommands } from './buffers.js';
import { registerErrorCommands } from './errors.js';
import { registerRuntimeCommands } from './runtime.js';
import { registerSystemCommands } from './system.js';
import { registerTraceCommands } from './trace.js';

export function registerBuiltinCommands(main: Main): void {
  registerSystemCommands(main);
  registerErrorCommands(main);
  registerRuntimeCommands(main);
  registerBufferCommands(main);
  registerTraceCommands(main);
}
