// Syntax tree of one .api file, as the parser produces it (before imports and services are resolved).

/** A number written with a decimal point: Python keeps it a float, so JSON shows `1.0`. */
export class FloatLiteral {
  constructor(readonly value: number, readonly text: string) {}
  toJSON(): string {
    return `\u0000float:${this.text}\u0000`;
  }
}

export type OptionValue = number | FloatLiteral | string | boolean | null;

export interface FieldDecl {
  kind: 'field';
  type: string;
  name: string;
  /** Bracketed field options (`[default=5]`), vppapigen's "limit". */
  options: Record<string, OptionValue> | null;
}

export interface ArrayDecl {
  kind: 'array';
  type: string;
  name: string;
  /** Fixed element count; 0 for `x[]` and for arrays sized by another field. */
  length: number;
  lengthField: string | null;
}

export interface OptionDecl {
  kind: 'option';
  name: string;
  value: OptionValue;
}

export type BlockItem = FieldDecl | ArrayDecl | OptionDecl;

export interface DefineStmt {
  kind: 'define';
  name: string;
  flags: string[];
  block: BlockItem[];
  comment: string | null;
}

export interface TypedefStmt {
  kind: 'typedef';
  name: string;
  flags: string[];
  block: BlockItem[];
  comment: string | null;
}

export interface AliasStmt {
  kind: 'alias';
  name: string;
  flags: string[];
  target: FieldDecl | ArrayDecl;
}

export interface UnionStmt {
  kind: 'union';
  name: string;
  flags: string[];
  block: BlockItem[];
}

export interface EnumMember {
  id: string;
  value?: number;
  options?: Record<string, OptionValue>;
}

export interface EnumStmt {
  kind: 'enum' | 'enumflag';
  name: string;
  enumtype: string;
  members: EnumMember[];
}

export interface ImportStmt {
  kind: 'import';
  filename: string;
}

export interface RpcDecl {
  caller: string;
  reply: string;
  stream: boolean;
  streamMessage: string | null;
  events: string[];
}

export interface ServiceStmt {
  kind: 'service';
  rpcs: RpcDecl[];
}

export interface CountersStmt {
  kind: 'counters';
  name: string;
  elements: Record<string, string>[];
}

export interface PathsStmt {
  kind: 'paths';
  /** vppapigen keeps a single path element as a bare object and several as a list. */
  paths: Record<string, string> | Record<string, string>[];
}

export type Statement =
  | DefineStmt | TypedefStmt | AliasStmt | UnionStmt | EnumStmt | ImportStmt | ServiceStmt
  | CountersStmt | PathsStmt | OptionDecl;
