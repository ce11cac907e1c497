import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { echoRequestFrame, NetHarness, PEER_IP } from './net-harness.js';

let h: NetHarness;
beforeEach(() => {
  h = new NetHarness();
});
afterEach(() => h.close());

describe('net CLI', () => {
  it('creates, shows and deletes a host interface', async () => {
    expect(await h.cli('create host-interface name veth7 hw-addr 02:fe:00:00:00:07 num-rx-queues 1')).toBe('host-veth7');
    await expect(h.cli('create host-interface name veth7')).rejects.toThrow('create host-interface: interface host-veth7 already exists');
    await expect(h.cli('create host-interface name veth8 hw-addr zz')).rejects.toThrow("MAC address expected, got `zz'");
    await expect(h.cli('create host-interface')).rejects.toThrow('missing host interface name');
    await h.cli('set interface ip address host-veth7 10.1.0.1/16');
    await h.cli('create host-interface name veth9');
    await expect(h.cli('set interface ip address host-veth9 10.1.2.3/24')).rejects.toThrow('overlaps 10.1.0.1/16 on host-veth7');
    await h.cli('delete host-interface name veth9');
    expect(await h.cli('show interface address')).toBe('local0 (dn):\nhost-veth7 (dn):\n  L3 10.1.0.1/16');
    await h.cli('set interface state host-veth7 up');
    await h.cli('set interface rx-mode host-veth7 polling');
    const hw = await h.cli('show hardware-interfaces host-veth7');
    expect(hw).toContain('Ethernet address 02:fe:00:00:00:07');
    expect(hw).toMatch(/0\s+main \(0\)\s+polling/);
    expect(await h.cli('show interface')).toMatch(/^\s+Name\s+Idx\s+State\s+MTU \(L3\/IP4\/IP6\/MPLS\)\s+Counter\s+Count\s*\nlocal0\s+0\s+down\s+0\/0\/0\/0\nhost-veth7\s+1\s+up\s+1500\/0\/0\/0/);
    await h.cli('set interface ip address del host-veth7 10.1.0.1/16');
    expect(await h.cli('show ip fib')).toBe('ipv4-VRF:0, fib_index:0');
    await h.cli('delete host-interface name veth7');
    expect(h.net.interfaces.find('host-veth7')).toBeUndefined();
    await expect(h.cli('set interface state host-veth7 up')).rejects.toThrow("unknown interface `host-veth7'");
  });

  it('adds and deletes static routes', async () => {
    await h.standard();
    await h.cli('ip route add 192.0.2.0/24 via 10.9.0.254 host-veth0');
    expect(await h.cli('show ip fib')).toContain('192.0.2.0/24\n  [@0]: via 10.9.0.254 host-veth0');
    await expect(h.cli('ip route add 10.9.0.0/24 via 10.9.0.254')).rejects.toThrow('is a connected prefix');
    await h.cli('ip route del 192.0.2.0/24');
    await expect(h.cli('ip route del 192.0.2.0/24')).rejects.toThrow('no static route');
  });
});

describe('static neighbours', () => {
  it('sets a neighbour by hand that ARP does not replace, and deletes it', async () => {
    const dev = await h.standard();
    await h.cli('set ip neighbor host-veth0 10.9.0.2 02:00:00:00:00:aa');
    expect(await h.cli('show ip neighbors')).toMatch(/10\.9\.0\.2\s+S\s+02:00:00:00:00:aa host-veth0/);
    dev.inject(echoRequestFrame(1));
    h.run();
    const [reply] = dev.takeTransmitted();
    expect([...reply!.subarray(0, 6)]).toEqual([2, 0, 0, 0, 0, 0xaa]);
    await h.cli('set ip neighbor del host-veth0 10.9.0.2');
    expect(h.net.neighbors.size).toBe(0);
    await expect(h.cli('set ip neighbor del host-veth0 10.9.0.2')).rejects.toThrow('no neighbor 10.9.0.2 on host-veth0');
  });
});

describe('fault injection', () => {
  it('drops, duplicates and corrupts on RX, and reports it', async () => {
    const dev = await h.standard();
    h.net.neighbors.learn(1, PEER_IP, 0x02000000, 0x0002, 0, true);
    await h.cli('set interface fault host-veth0 rx drop 100');
    for (let i = 0; i < 5; i++) dev.inject(echoRequestFrame(i));
    h.run();
    expect(dev.takeTransmitted()).toHaveLength(0);
    expect(h.error('interface-rx-fault', 'dropped')).toBe(5);
    await h.cli('set interface fault host-veth0 rx duplicate 100 seed 3');
    dev.inject(echoRequestFrame(1));
    h.run();
    expect(dev.takeTransmitted()).toHaveLength(2);
    await h.cli('set interface fault host-veth0 tx corrupt 100');
    await h.cli('set interface fault host-veth0 rx off');
    dev.inject(echoRequestFrame(2));
    h.run();
    const [frame] = dev.takeTransmitted();
    expect(frame).toBeDefined();
    expect(frame!.subarray(14)).not.toEqual(echoRequestFrame(2).subarray(14));
    const show = await h.cli('show interface fault');
    expect(show).toContain('host-veth0 tx: drop 0% duplicate 0% reorder 0% corrupt 100% delay 0ms seed 1');
    expect(show).toContain('seen 1 dropped 0 duplicated 0 reordered 0 corrupted 1');
    await expect(h.cli('set interface fault host-veth0 drop 101')).rejects.toThrow('drop percentage expected');
    expect(h.main.graph.buffers.available).toBe(h.main.graph.buffers.capacity);
  });

  it('delays frames through the fault process', async () => {
    const dev = await h.standard();
    h.net.neighbors.learn(1, PEER_IP, 0x02000000, 0x0002, 0, true);
    await h.cli('set interface fault host-veth0 tx delay 30');
    dev.inject(echoRequestFrame(1));
    h.run();
    expect(dev.takeTransmitted()).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 40));
    h.main.graph.drain();
    expect(dev.takeTransmitted()).toHaveLength(1);
  });
});
