// The modules built into the daemon (not plugins): everything below the plugins in the layer list.

import type { Main } from '../core/main.js';

export function registerCoreModules(main: Main): void {
  void main;
}
