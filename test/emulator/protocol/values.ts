/**
 * What an operation handler returns: plain data that each protocol encodes its own way
 * (XML elements and `<member>` lists for Query, JSON with epoch seconds for JSON 1.1).
 * `undefined` and `null` members are left out, as AWS leaves out absent fields.
 */
export type ResponseValue =
  string | number | boolean | Date | null | undefined | readonly ResponseValue[] | ResponseObject

export interface ResponseObject {
  readonly [key: string]: ResponseValue
}

/** Read accessors shared by both protocols, so handlers do not care how parameters arrived. */
export interface RequestParams {
  string(name: string): string | undefined
  requiredString(name: string): string
  integer(name: string): number | undefined
  boolean(name: string): boolean | undefined
  stringList(name: string): string[]
  /** A list of structures, e.g. Tags: [{ Key, Value }]. */
  structList(name: string): RequestParams[]
  /** A nested structure, e.g. Message.Body; undefined when absent. */
  struct(name: string): RequestParams | undefined
  /** A map of strings (JSON objects; Query `Name.entry.N.key/value`). */
  stringMap(name: string): Map<string, string>
}
