// The modules built into the daemon (not plugins), bottom up: the L2/L3 host stack, then TCP and
// the session layer that applications (the SOCKS5 server of the tor plugin) attach to, and the
// binary API modules over them.

import type { Main } from '../core/main.js';
import { registerNetModule } from '../net/module.js';
import { registerSessionModule } from '../session/module.js';
import { registerCoreApi } from './api-modules.js';

export function registerCoreModules(main: Main): void {
  const net = registerNetModule(main);
  registerSessionModule(main, net);
  registerCoreApi(main, net);
}
