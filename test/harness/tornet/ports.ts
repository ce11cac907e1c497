// Free TCP ports on 127.0.0.1 for the daemons. Picked at random below the kernel's ephemeral range
// (32768+), so outgoing connections of other processes do not grab them between our check and tor's bind.

import net from 'node:net';

const LOW = 20000;
const HIGH = 32000;

function tryListen(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(server));
  });
}

/** `count` distinct ports that were bindable at the moment of the call (all held at once, then released). */
export async function allocatePorts(count: number, random: () => number = Math.random): Promise<number[]> {
  const held: net.Server[] = [];
  const ports: number[] = [];
  try {
    let attempts = 0;
    while (ports.length < count) {
      if (++attempts > count * 50) throw new Error(`could not find ${count} free ports in ${LOW}-${HIGH}`);
      const port = LOW + Math.floor(random() * (HIGH - LOW));
      if (ports.includes(port)) continue;
      const server = await tryListen(port);
      if (server === undefined) continue;
      held.push(server);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
