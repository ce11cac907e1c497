// The tor plugin: a SOCKS5 server on onionplane's own TCP stack whose streams go through a Tor
// backend (embedded, external, managed, or direct for tests), configured by `tor { … }`, driven by
// `tor client …` and `show tor …`, and by tor.api.

import { torHandlers } from '../../src/api/handlers/tor.js';
import type { Main } from '../../src/core/main.js';
import { definePlugin } from '../../src/plugin/plugin.js';
import type { SessionMain } from '../../src/session/session-main.js';
import { allSocksCounters } from '../../src/socks/codes.js';
import { torApiBackend } from './api.js';
import { registerTorCommands } from './cli.js';
import { defaultTorConfig, parseTorSection, type TorConfig } from './config.js';
import { TOR_CLIENT_COUNTERS, TOR_CLIENT_NODE } from './client-counters.js';
import { TOR_SOCKS_NODE, TorMain } from './tor-main.js';

export default definePlugin({
  name: 'tor',
  version: '0.1.0',
  description: 'Tor client: SOCKS5 on the dataplane, streams through Tor',
  register(main: Main) {
    main.registerConfigSection({ name: 'tor', parse: parseTorSection });
    // The parsed stanza replaces the defaults at init (sections are parsed after registration).
    const t = main.setModule('tor', new TorMain(main, () => main.module<SessionMain>('session'), defaultTorConfig()));
    t.nodeIndex = main.registerNode({
      name: TOR_SOCKS_NODE,
      type: 'process',
      errors: allSocksCounters(),
      fn: (_node, now) => t.tick(now),
    });
    t.node = main.graph.nodes[t.nodeIndex];
    t.clientNodeIndex = main.registerNode({
      name: TOR_CLIENT_NODE,
      type: 'process',
      errors: TOR_CLIENT_COUNTERS,
      fn: (node) => t.syncClientCounters(node),
    });
    registerTorCommands(main, t);
    main.api.addHandlers(torHandlers(torApiBackend(t), main.api), 'tor');
    main.onInit('tor', async () => {
      t.config = main.config<TorConfig>('tor');
      if (t.config.enabled) await t.enable(t.config);
    });
    main.onShutdown('tor', () => t.shutdown());
  },
});
