/**
 * The worker contract: what the Functions host and the Node worker exchange, as the local host and the
 * local Durable backend both use it. Owned here once; host/ and durable/ import it, it imports neither.
 */

/** RPC-shaped typed data, as the Functions host sends it to the Node worker. */
export type TypedData = { string: string } | { json: string } | { bytes: Uint8Array };

/** One function as registered through @azure/functions-core registerFunction(metadata, callback). */
export interface RegisteredFunctionInfo {
  name: string;
  /** binding name -> binding metadata as registered, e.g. { type: 'orchestrationTrigger', direction: 'in', ... } */
  bindings: Record<string, { type: string; direction: string; [key: string]: unknown }>;
}

/**
 * Invoke a registered function through the library's own invocation model (same path as in Azure).
 * `trigger` becomes the inputData entry of the function's trigger binding; `extraInputs` fills other
 * input bindings by binding name. Resolves to the function's return value decoded from TypedData
 * (json -> parsed value, string -> string, none -> undefined); rejects if the handler threw.
 */
export type InvokeFunction = (
  functionName: string,
  trigger: TypedData,
  options?: { triggerMetadata?: Record<string, TypedData>; extraInputs?: Record<string, TypedData> },
) => Promise<unknown>;

/** Typed data as it travels in an invocation request (the HTTP trigger adds `http`). */
export type RpcTypedData = TypedData | { http: RpcHttpData } | { int: number } | { double: number };

export interface RpcNullableString {
  value: string;
}

export interface RpcHttpData {
  method: string;
  url: string;
  headers: Record<string, string>;
  nullableHeaders: Record<string, RpcNullableString>;
  query: Record<string, string>;
  nullableQuery: Record<string, RpcNullableString>;
  params: Record<string, string>;
  nullableParams: Record<string, RpcNullableString>;
  body?: RpcTypedData;
}
