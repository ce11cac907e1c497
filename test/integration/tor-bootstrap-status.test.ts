// An operator whose embedded client cannot bootstrap sees why in `show tor status`: the phase it is
// stuck at and the last problem (here: the only directory authority refuses connections).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemonProcess, type DaemonProcess } from '../harness/daemon.js';
import { waitFor } from '../harness/gateway.js';
import { allocatePorts } from '../harness/tornet/ports.js';

describe('embedded client that cannot bootstrap', () => {
  let d: DaemonProcess;

  beforeAll(async () => {
    // A port that was free a moment ago: nothing answers on it.
    const [dead] = await allocatePorts(1);
    const authority = `dead0 orport=${dead} no-v2 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 127.0.0.1:${dead} AAAABBBBCCCCDDDDEEEEFFFF0000111122223333`;
    d = await startDaemonProcess({
      config: `unix { cli-listen $DIR/cli.sock }\ntor {\n  enabled\n  backend embedded\n  data-dir $DIR/tor\n  test-network on\n  dir-authority "${authority}"\n}\n`,
    });
  }, 30_000);

  afterAll(async () => {
    await d?.stop();
  });

  it('shows the phase it is stuck at and the last problem', async () => {
    const status = await waitFor(
      'a bootstrap warning',
      async () => {
        const out = (await d.cli('show tor status')).output;
        return /\[warning: /.test(out) ? out : undefined;
      },
      20_000,
    );
    expect(status).toMatch(/bootstrap: \d+% \(\w+\): .+ \[warning: no valid consensus from any directory server; .*ECONNREFUSED/);
    expect(status).not.toMatch(/bootstrap: 100%/);
  }, 30_000);
});
