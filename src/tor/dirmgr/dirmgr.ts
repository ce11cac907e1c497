import type { ValidatedAuthCert } from '../netdoc/authcert.js';
import type { DirAuthority } from '../netdoc/dirauthority.js';
import type { DirRequest } from '../dirclient/request.js';
import { microdescRequests } from '../dirclient/request.js';
import { dirPortOpener, fetchDir, type DirStreamOpener } from '../dirclient/fetch.js';
import { NetDir, type NetDirOptions } from '../netdir/netdir.js';
import { cryptoRandom, type RandomSource } from '../netdir/random.js';
import { acceptCerts, acceptConsensus, acceptMicrodescs } from './accept.js';
import { DirCache } from './cache.js';
import { DirCounters } from './counters.js';
import { nextConsensusFetchTime } from './schedule.js';

/** A directory server and how to open a stream to it (DirPort TCP now, BEGIN_DIR later). */
export interface DirServer {
  readonly name: string;
  readonly open: DirStreamOpener;
}

export interface DirMgrConfig {
  readonly authorities: readonly DirAuthority[];
  /** Servers to fetch from, tried in random order; default: every authority's DirPort. */
  readonly servers?: readonly DirServer[];
  /** Directory for raw cached documents; no caching when undefined. */
  readonly cacheDir?: string;
  /** Wall clock in ms; the runtime's, injectable for tests. */
  readonly clock?: () => number;
  readonly rng?: RandomSource;
  readonly netDirOptions?: NetDirOptions;
  /** Ask for `.z` (deflate) documents. */
  readonly compressed?: boolean;
  readonly fetchTimeoutMs?: number;
}

export class DirBootstrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DirBootstrapError';
  }
}

export function authorityServers(authorities: readonly DirAuthority[]): DirServer[] {
  return authorities.map((a) => ({ name: a.nickname ?? a.v3ident, open: dirPortOpener(a.address, a.dirPort) }));
}

/**
 * Directory manager: bootstrap (certificates → consensus → microdescriptors), refresh on the
 * dir-spec schedule, cache raw documents. Every refused document is counted in `counters`.
 */
export class DirMgr {
  readonly counters = new DirCounters();
  private readonly cfg: DirMgrConfig;
  private readonly servers: readonly DirServer[];
  private readonly clock: () => number;
  private readonly rng: RandomSource;
  private readonly cache: DirCache | undefined;
  private readonly certsById = new Map<string, ValidatedAuthCert>();
  private current: NetDir | undefined;
  private refreshAt: number | undefined;

  constructor(cfg: DirMgrConfig) {
    this.cfg = cfg;
    this.servers = cfg.servers ?? authorityServers(cfg.authorities);
    this.clock = cfg.clock ?? Date.now;
    this.rng = cfg.rng ?? cryptoRandom;
    this.cache = cfg.cacheDir !== undefined ? new DirCache(cfg.cacheDir) : undefined;
  }

  get netdir(): NetDir | undefined {
    return this.current;
  }

  certs(): ValidatedAuthCert[] {
    return [...this.certsById.values()];
  }

  /** When the next consensus should be fetched (ms), once one is held. */
  nextRefreshAt(): number | undefined {
    return this.refreshAt;
  }

  /** Use cached documents if the consensus is still reasonably live. Returns whether a NetDir resulted. */
  async loadFromCache(): Promise<boolean> {
    if (this.cache === undefined) return false;
    const docs = await this.cache.load();
    const now = this.clock();
    if (docs.certs !== undefined) this.addCerts(acceptCerts(docs.certs, this.cfg.authorities, now, this.counters));
    if (docs.consensus === undefined) return false;
    const v = acceptConsensus(docs.consensus, this.cfg.authorities, this.certs(), now, this.counters);
    if (!v.ok) return false;
    const dir = new NetDir(v.consensus, [], this.cfg.netDirOptions);
    if (docs.microdescs !== undefined) dir.addMicrodescs(acceptMicrodescs(docs.microdescs, dir.missingMicrodescs(), this.counters));
    this.install(dir);
    return true;
  }

  /**
   * Get a usable NetDir: from the cache if possible, else from the servers. Fetches missing
   * microdescriptors either way. Throws DirBootstrapError when no server yields a valid consensus
   * or too few microdescriptors arrive.
   */
  async bootstrap(): Promise<NetDir> {
    if (this.current === undefined) await this.loadFromCache();
    if (this.current === undefined) {
      if (!(await this.fetchConsensus())) throw new DirBootstrapError('no valid consensus from any directory server');
    }
    await this.fetchMissingMicrodescs();
    const dir = this.current!;
    if (!dir.haveEnoughPaths()) {
      throw new DirBootstrapError(`only ${(dir.fractionOfPathsAvailable() * 100).toFixed(0)}% of paths have microdescriptors`);
    }
    return dir;
  }

  /** Fetch a fresh consensus (and its missing microdescriptors). Returns whether a new one was installed. */
  async refresh(): Promise<boolean> {
    if (!(await this.fetchConsensus())) return false;
    await this.fetchMissingMicrodescs();
    return true;
  }

  private addCerts(certs: readonly ValidatedAuthCert[]): void {
    for (const c of certs) {
      const old = this.certsById.get(c.fingerprint);
      if (old === undefined || old.published <= c.published) this.certsById.set(c.fingerprint, c);
    }
  }

  private install(dir: NetDir): void {
    this.current = dir;
    this.refreshAt = nextConsensusFetchTime(dir.consensus, this.rng);
  }

  /** Servers in a fresh random order so that load spreads and a dead one is skipped. */
  private shuffledServers(): DirServer[] {
    const s = [...this.servers];
    for (let i = s.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng.next() * (i + 1));
      [s[i], s[j]] = [s[j]!, s[i]!];
    }
    return s;
  }

  private async get(server: DirServer, req: DirRequest): Promise<Buffer | undefined> {
    try {
      const res = await fetchDir(server.open, req, { compressed: this.cfg.compressed, timeoutMs: this.cfg.fetchTimeoutMs });
      return res.body;
    } catch (e) {
      this.counters.fetchFailed(`${server.name}: ${req.kind}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  private async fetchCerts(server: DirServer, req: DirRequest): Promise<void> {
    const body = await this.get(server, req);
    if (body !== undefined) this.addCerts(acceptCerts(body, this.cfg.authorities, this.clock(), this.counters));
  }

  private async fetchConsensus(): Promise<boolean> {
    for (const server of this.shuffledServers()) {
      if (this.certsById.size === 0) await this.fetchCerts(server, { kind: 'authcerts-all' });
      const body = await this.get(server, { kind: 'consensus-microdesc' });
      if (body === undefined) continue;
      let v = acceptConsensus(body, this.cfg.authorities, this.certs(), this.clock(), this.counters, { allowMissingCertRetry: true });
      if (!v.ok && v.missingCerts !== undefined) {
        await this.fetchCerts(server, { kind: 'authcerts-fp-sk', pairs: v.missingCerts.map((m) => ({ v3ident: m.v3ident, signingKeyDigest: m.signingKeyDigest })) });
        v = acceptConsensus(body, this.cfg.authorities, this.certs(), this.clock(), this.counters);
      }
      if (!v.ok) continue;
      if (this.current !== undefined && v.consensus.validAfter <= this.current.consensus.validAfter) {
        // Not newer than what we hold: keep ours, schedule the next try.
        this.refreshAt = nextConsensusFetchTime(this.current.consensus, this.rng);
        return false;
      }
      // Carry over microdescriptors the new consensus still references.
      const dir = new NetDir(v.consensus, this.current?.microdescs() ?? [], this.cfg.netDirOptions);
      this.install(dir);
      await this.cache?.store('certs', this.certs().map((c) => c.text).join(''));
      await this.cache?.store('consensus', body);
      return true;
    }
    return false;
  }

  private async fetchMissingMicrodescs(): Promise<void> {
    const dir = this.current;
    if (dir === undefined) return;
    for (const req of microdescRequests(dir.missingMicrodescs())) {
      if (req.kind !== 'microdescs') continue;
      let wanted = req.digests;
      for (const server of this.shuffledServers()) {
        const body = await this.get(server, { kind: 'microdescs', digests: wanted });
        if (body === undefined) continue;
        dir.addMicrodescs(acceptMicrodescs(body, wanted, this.counters));
        const missing = new Set(dir.missingMicrodescs().map((d) => d.toString('base64')));
        wanted = wanted.filter((d) => missing.has(d.toString('base64')));
        if (wanted.length === 0) break;
      }
    }
    await this.cache?.store('microdescs', dir.microdescs().map((m) => m.text).join(''));
  }
}
