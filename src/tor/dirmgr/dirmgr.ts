import type { ValidatedAuthCert } from '../netdoc/authcert.js';
import { consensusLiveness } from '../netdoc/consensus-verify.js';
import type { DirAuthority } from '../netdoc/dirauthority.js';
import type { RejectReason } from '../netdoc/errors.js';
import type { DirRequest } from '../dirclient/request.js';
import { microdescRequests } from '../dirclient/request.js';
import { dirPortOpener, fetchDir, type DirStreamOpener } from '../dirclient/fetch.js';
import { NetDir, type NetDirOptions } from '../netdir/netdir.js';
import { cryptoRandom, type RandomSource } from '../netdir/random.js';
import { acceptCerts, acceptConsensus, acceptMicrodescs } from './accept.js';
import { DirCache } from './cache.js';
import { DirCounters, type DirFetchOutcome, type DirSourceKind } from './counters.js';
import { dirCacheCandidates, DirSourcePenalties, planDirSources, type DirCacheTarget, type PlannedSource } from './dir-source.js';
import { nextConsensusFetchTime } from './schedule.js';

/** A directory server and how to open a stream to it (an authority's DirPort, or BEGIN_DIR on an ORPort). */
export interface DirServer {
  readonly name: string;
  readonly open: DirStreamOpener;
}

export interface DirMgrConfig {
  readonly authorities: readonly DirAuthority[];
  /** Authority (or fallback) servers, tried in random order; default: every authority's DirPort. */
  readonly servers?: readonly DirServer[];
  /**
   * Opens BEGIN_DIR streams to a directory cache (a V2Dir relay of the consensus), e.g. the circuit
   * manager's one-hop CREATE_FAST dir circuits. Without it every fetch goes to `servers`.
   */
  readonly cacheServer?: (target: DirCacheTarget) => DirServer;
  /** RSA identities (hex) of our guards, tried first as caches (C tor's directory guards). */
  readonly dirGuards?: () => readonly string[];
  /** Distinct caches tried per request before falling back to the authorities (default 3). */
  readonly maxCacheAttempts?: number;
  /** Directory for raw cached documents; no caching when undefined. */
  readonly cacheDir?: string;
  /** Wall clock in ms; the runtime's, injectable for tests. */
  readonly clock?: () => number;
  readonly rng?: RandomSource;
  readonly netDirOptions?: NetDirOptions;
  /** Ask for `.z` (deflate) documents. */
  readonly compressed?: boolean;
  /** Bound on one fetch from an authority, stream opening included (default 30 s). */
  readonly fetchTimeoutMs?: number;
  /** Bound on one fetch from a cache, stream opening included (default 15 s): another cache is near. */
  readonly cacheFetchTimeoutMs?: number;
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

/** One fetch as the manager saw it, for status listings and tests. */
export interface DirFetchRecord {
  readonly at: number;
  readonly request: DirRequest['kind'];
  readonly source: DirSourceKind;
  readonly server: string;
  readonly outcome: DirFetchOutcome;
}

const RECENT_FETCHES = 32;
const DEFAULT_MAX_CACHE_ATTEMPTS = 3;
const DEFAULT_CACHE_FETCH_TIMEOUT_MS = 15_000;
/** Microdescriptor requests in flight at once (92 digests each). */
const MICRODESC_PARALLEL_REQUESTS = 4;

/** Reasons that say the server lags (an old or early document), not that it lies. */
const STALE_REASONS: ReadonlySet<RejectReason> = new Set<RejectReason>(['expired', 'not-yet-valid']);

/** A source picked for one request, with the server to open. */
interface Source {
  readonly plan: PlannedSource;
  readonly server: DirServer;
}

/**
 * Directory manager: bootstrap (certificates → consensus → microdescriptors), refresh on the
 * dir-spec schedule, cache raw documents. The first consensus comes from the authorities; once a
 * (reasonably) live one is held, consensus refreshes, microdescriptors and missing certificates come
 * from directory caches first, falling back to the authorities. Every refused document is counted in
 * `counters`, every fetch by source and outcome.
 */
export class DirMgr {
  readonly counters = new DirCounters();
  /** Servers that failed or lied, skipped for a while. */
  readonly penalties = new DirSourcePenalties();
  /** The last fetches (oldest first), bounded. */
  readonly recentFetches: DirFetchRecord[] = [];
  /** Where each kind of request was last answered with an accepted document. */
  readonly lastGoodSource = new Map<DirRequest['kind'], DirFetchRecord>();
  private readonly cfg: DirMgrConfig;
  private readonly servers: readonly DirServer[];
  private readonly authorityIds: readonly string[];
  private readonly authorityRsaIds: ReadonlySet<string>;
  private readonly clock: () => number;
  private readonly rng: RandomSource;
  private readonly cache: DirCache | undefined;
  private readonly certsById = new Map<string, ValidatedAuthCert>();
  private current: NetDir | undefined;
  private refreshAt: number | undefined;

  constructor(cfg: DirMgrConfig) {
    this.cfg = cfg;
    this.servers = cfg.servers ?? authorityServers(cfg.authorities);
    this.authorityIds = this.servers.map((s, i) => `authority:${i}:${s.name}`);
    this.authorityRsaIds = new Set(cfg.authorities.map((a) => a.rsaFingerprint.toUpperCase()));
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
    // Too few usable relays in the consensus itself (a young network, or a lagging server's older
    // document) is not fixed by more microdescriptors: ask for a newer consensus before giving up.
    if (!this.current!.haveEnoughPaths() && (await this.fetchConsensus())) await this.fetchMissingMicrodescs();
    const dir = this.current!;
    if (!dir.haveEnoughPaths()) throw new DirBootstrapError(dir.describePaths());
    return dir;
  }

  /** Fetch a fresh consensus (and its missing microdescriptors). Returns whether a new one was installed. */
  async refresh(): Promise<boolean> {
    if (!(await this.fetchConsensus())) return false;
    await this.fetchMissingMicrodescs();
    return true;
  }

  /**
   * The servers to try for one request, in order: caches when a (reasonably) live consensus is held
   * and a cache opener is configured, then the authorities.
   */
  sourcesFor(opts: { readonly caches: boolean } = { caches: true }): PlannedSource[] {
    const now = this.clock();
    const cachesAllowed = opts.caches && this.cachesUsable(now);
    const caches = cachesAllowed ? dirCacheCandidates(this.current!, this.authorityRsaIds) : [];
    const plan = planDirSources({
      caches,
      preferred: cachesAllowed ? (this.cfg.dirGuards?.() ?? []) : [],
      authorities: this.authorityIds,
      penalties: this.penalties,
      now,
      rng: this.rng,
      maxCaches: this.cfg.maxCacheAttempts ?? DEFAULT_MAX_CACHE_ATTEMPTS,
    });
    return plan;
  }

  private cachesUsable(now: number): boolean {
    if (this.cfg.cacheServer === undefined || this.current === undefined) return false;
    const l = consensusLiveness(this.current.consensus, now);
    return l === 'live' || l === 'reasonably-live';
  }

  private sources(opts: { readonly caches: boolean } = { caches: true }): Source[] {
    const planned = this.sourcesFor(opts);
    if (opts.caches && this.cachesUsable(this.clock()) && !planned.some((p) => p.kind === 'cache')) this.counters.noCache();
    return planned.map((plan) => ({
      plan,
      server: plan.kind === 'cache' ? this.cfg.cacheServer!(plan.cache) : this.servers[plan.index]!,
    }));
  }

  private hasCert(m: { readonly v3ident: string; readonly signingKeyDigest: string }): boolean {
    return this.certsById.get(m.v3ident)?.signingKey.sha1.toString('hex').toUpperCase() === m.signingKeyDigest.toUpperCase();
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

  /** Count a fetch, move the server in or out of the penalty box, remember it. */
  private note(src: Source, request: DirRequest['kind'], outcome: DirFetchOutcome, stale = false): void {
    const now = this.clock();
    const kind = src.plan.kind;
    this.counters.fetched(kind, outcome);
    if (outcome === 'ok') this.penalties.succeeded(src.plan.id);
    else if (outcome === 'rejected') this.penalties.rejected(src.plan.id, now);
    else if (!stale || kind === 'cache') this.penalties.failed(src.plan.id, now);
    const rec: DirFetchRecord = { at: now, request, source: kind, server: src.server.name, outcome };
    this.recentFetches.push(rec);
    if (this.recentFetches.length > RECENT_FETCHES) this.recentFetches.shift();
    if (outcome === 'ok') this.lastGoodSource.set(request, rec);
  }

  private async get(src: Source, req: DirRequest): Promise<Buffer | undefined> {
    const timeoutMs = src.plan.kind === 'cache' ? (this.cfg.cacheFetchTimeoutMs ?? DEFAULT_CACHE_FETCH_TIMEOUT_MS) : this.cfg.fetchTimeoutMs;
    try {
      const res = await fetchDir(src.server.open, req, { compressed: this.cfg.compressed, timeoutMs });
      return res.body;
    } catch (e) {
      this.counters.fetchFailed(`${src.server.name}: ${req.kind}: ${e instanceof Error ? e.message : String(e)}`);
      this.note(src, req.kind, 'failed');
      return undefined;
    }
  }

  /** Fetch certificates from one server; counted as ok when any was accepted, rejected when any was refused. */
  private async fetchCerts(src: Source, req: DirRequest): Promise<void> {
    const body = await this.get(src, req);
    if (body === undefined) return;
    const refusedBefore = this.counters.rejectedByKind.cert;
    const certs = acceptCerts(body, this.cfg.authorities, this.clock(), this.counters);
    this.addCerts(certs);
    this.note(src, req.kind, this.counters.rejectedByKind.cert > refusedBefore ? 'rejected' : certs.length > 0 ? 'ok' : 'failed');
  }

  /**
   * Certificates a consensus is signed with but we lack: from the server that sent the consensus
   * first, then from the authorities.
   */
  private async fetchMissingCerts(first: Source, missing: readonly { readonly v3ident: string; readonly signingKeyDigest: string }[]): Promise<void> {
    const stillMissing = () => missing.filter((m) => !this.hasCert(m));
    const fallbacks = first.plan.kind === 'cache' ? this.sources({ caches: false }) : [];
    for (const src of [first, ...fallbacks]) {
      const want = stillMissing();
      if (want.length === 0) return;
      await this.fetchCerts(src, { kind: 'authcerts-fp-sk', pairs: want.map((m) => ({ v3ident: m.v3ident, signingKeyDigest: m.signingKeyDigest })) });
    }
  }

  private async fetchConsensus(): Promise<boolean> {
    for (const src of this.sources()) {
      if (this.certsById.size === 0) await this.fetchCerts(src, { kind: 'authcerts-all' });
      const body = await this.get(src, { kind: 'consensus-microdesc' });
      if (body === undefined) continue;
      let v = acceptConsensus(body, this.cfg.authorities, this.certs(), this.clock(), this.counters, { allowMissingCertRetry: true });
      let certsUnavailable = false;
      if (!v.ok && v.missingCerts !== undefined) {
        const missing = v.missingCerts;
        await this.fetchMissingCerts(src, missing);
        certsUnavailable = missing.some((m) => !this.hasCert(m));
        v = acceptConsensus(body, this.cfg.authorities, this.certs(), this.clock(), this.counters);
      }
      if (!v.ok) {
        // Refused and counted either way; but a server is only penalized as a liar when the signatures
        // could be checked (no certificate missing) or the document was otherwise bad.
        const lagging = STALE_REASONS.has(v.error.reason) || (certsUnavailable && v.error.reason === 'no-quorum');
        this.note(src, 'consensus-microdesc', lagging ? 'failed' : 'rejected', lagging);
        continue;
      }
      if (this.current !== undefined && v.consensus.validAfter <= this.current.consensus.validAfter) {
        // Valid but not newer than ours: this server lags, keep ours. Another cache may be ahead; when an
        // authority has nothing newer the others will not either, so the refresh loop backs off instead.
        this.note(src, 'consensus-microdesc', 'failed', true);
        this.refreshAt = nextConsensusFetchTime(this.current.consensus, this.rng);
        if (src.plan.kind === 'cache') continue;
        return false;
      }
      this.note(src, 'consensus-microdesc', 'ok');
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
    const batches = microdescRequests(dir.missingMicrodescs()).flatMap((r) => (r.kind === 'microdescs' ? [r.digests] : []));
    // A few batches at once, each from its own servers: a large download spreads over several caches
    // (C tor launches its microdescriptor requests in parallel too), and memory stays bounded.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) await this.fetchMicrodescBatch(dir, batches[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(MICRODESC_PARALLEL_REQUESTS, batches.length) }, worker));
    await this.cache?.store('microdescs', dir.microdescs().map((m) => m.text).join(''));
  }

  private async fetchMicrodescBatch(dir: NetDir, digests: readonly Buffer[]): Promise<void> {
    let wanted = digests;
    for (const src of this.sources()) {
      const body = await this.get(src, { kind: 'microdescs', digests: wanted });
      if (body === undefined) continue;
      const refusedBefore = this.counters.rejectedByKind.microdesc;
      const added = dir.addMicrodescs(acceptMicrodescs(body, wanted, this.counters));
      // A cache may lack some: what it has counts as a success, the rest is asked of the next server.
      this.note(src, 'microdescs', this.counters.rejectedByKind.microdesc > refusedBefore ? 'rejected' : added > 0 ? 'ok' : 'failed');
      const missing = new Set(dir.missingMicrodescs().map((d) => d.toString('base64')));
      wanted = wanted.filter((d) => missing.has(d.toString('base64')));
      if (wanted.length === 0) return;
    }
  }
}
