// Logging: pino for structured logs (to the `unix { log <file> }` file or stderr), plus a bounded
// in-memory ring that `show log` prints. Levels use VPP's names.

import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug', 'disabled'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const PINO_LEVEL: Record<LogLevel, string> = {
  emerg: 'fatal',
  alert: 'fatal',
  crit: 'fatal',
  err: 'error',
  warn: 'warn',
  notice: 'info',
  info: 'info',
  debug: 'debug',
  disabled: 'silent',
};

const RANK: Record<string, number> = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };

export interface LogEntry {
  readonly time: Date;
  readonly level: string;
  readonly subsystem: string;
  readonly message: string;
}

/** How many entries `show log` keeps. */
export const LOG_RING_SIZE = 2048;

export class LogService {
  private logger: Logger;
  private readonly ring: LogEntry[] = [];
  private ringStart = 0;
  private level: LogLevel = 'notice';

  constructor() {
    this.logger = pino({ level: 'info' }, pino.destination({ dest: 2, sync: true }));
  }

  /** Points logs at a file (or stderr when undefined) with a default level. */
  configure(opts: { file?: string; level?: LogLevel }): void {
    if (opts.level) this.level = opts.level;
    const level = PINO_LEVEL[this.level];
    const dest = opts.file ? pino.destination({ dest: opts.file, mkdir: true, sync: false }) : pino.destination({ dest: 2, sync: true });
    this.logger = pino({ level }, dest);
  }

  /** A logger for one subsystem (`tor`, `cli`, `af-packet`, ...). */
  child(subsystem: string): SubsystemLogger {
    return new SubsystemLogger(this, subsystem);
  }

  write(level: 'error' | 'warn' | 'info' | 'debug', subsystem: string, message: string, fields?: object): void {
    const threshold = RANK[PINO_LEVEL[this.level]] ?? -1;
    if (this.level === 'disabled' || (RANK[level] ?? 9) > threshold) return;
    this.logger[level]({ subsystem, ...fields }, message);
    const entry: LogEntry = { time: new Date(), level, subsystem, message };
    if (this.ring.length < LOG_RING_SIZE) this.ring.push(entry);
    else {
      this.ring[this.ringStart] = entry;
      this.ringStart = (this.ringStart + 1) % LOG_RING_SIZE;
    }
  }

  entries(): LogEntry[] {
    return [...this.ring.slice(this.ringStart), ...this.ring.slice(0, this.ringStart)];
  }

  flush(): void {
    this.logger.flush();
  }
}

export class SubsystemLogger {
  constructor(
    private readonly service: LogService,
    readonly subsystem: string,
  ) {}
  error(message: string, fields?: object): void {
    this.service.write('error', this.subsystem, message, fields);
  }
  warn(message: string, fields?: object): void {
    this.service.write('warn', this.subsystem, message, fields);
  }
  info(message: string, fields?: object): void {
    this.service.write('info', this.subsystem, message, fields);
  }
  debug(message: string, fields?: object): void {
    this.service.write('debug', this.subsystem, message, fields);
  }
}
