import { describe, expect, it } from 'vitest';
import { parseStartupConfig, sectionInput } from '../../../src/config/startup-config.js';
import { DEFAULT_TCP_CONFIG, resolveTcpConfig } from '../../../src/net/tcp/config.js';
import { tcpSection } from '../../../src/session/config.js';

const parse = (text: string) => tcpSection.parse(sectionInput(parseStartupConfig(text), 'tcp'));

describe('tcp { tso on|off }', () => {
  it('is on by default and can be turned off (also in a repeated section)', () => {
    expect(DEFAULT_TCP_CONFIG.tso).toBe(true);
    expect(resolveTcpConfig(parse('tcp { cc-algo newreno }')).tso).toBe(true);
    expect(parse('tcp { tso off }')).toEqual({ tso: false });
    expect(parse('tcp { tso on }')).toEqual({ tso: true });
    expect(resolveTcpConfig(parse('tcp { initial-cwnd 20 }\ntcp { tso off }'))).toMatchObject({ tso: false, initialCwndSegments: 20 });
  });

  it('rejects other values', () => {
    expect(() => parse('tcp { tso maybe }')).toThrow(/tso expects on or off/);
  });
});
