// The session module: the TCP stack and session layer on top of the net module, its config
// sections, graph nodes and CLI. Applications (SOCKS5, test apps) attach through `SessionMain`.

import type { Main } from '../core/main.js';
import type { NetMain } from '../net/net-main.js';
import type { TcpConfig } from '../net/tcp/config.js';
import { registerSessionCommands } from './cli.js';
import { sessionSection, tcpSection } from './config.js';
import type { SessionConfig } from './session-main.js';
import { SessionMain } from './session-main.js';
import { tcpNodes } from './tcp-nodes.js';

export const SESSION_MODULE = 'session';

/**
 * Registers sections now; builds the stack at init, when the sections are parsed. Nodes must be
 * registered now too (the graph resolves names at init), so they close over a late-bound stack.
 */
export function registerSessionModule(main: Main, net: NetMain): { get(): SessionMain } {
  main.registerConfigSection(sessionSection);
  main.registerConfigSection(tcpSection);
  let sm: SessionMain | undefined;
  const get = (): SessionMain => {
    if (!sm) {
      sm = new SessionMain(main, net, main.config<SessionConfig>('session'), main.config<Partial<TcpConfig>>('tcp'));
      const nodes = tcpNodes(sm);
      main.registerNode(nodes.input);
      sm.timerNode = main.registerNode(nodes.timer);
      registerSessionCommands(main, sm);
      main.setModule(SESSION_MODULE, sm);
      main.onShutdown(SESSION_MODULE, () => sm!.shutdown());
    }
    return sm;
  };
  main.onInit(SESSION_MODULE, () => void get());
  return { get };
}
