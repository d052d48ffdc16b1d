/**
 * Service Bus lock tokens are GUIDs whose first three groups travel in .NET byte order: the emulator
 * writes delivery tags that way and the clients (and the local host's rhea receiver) read them back.
 */

/** Swaps the first three GUID groups: .NET byte order <-> RFC 4122 order (an involution). */
export function reorderGuidBytes(bytes: Buffer): Buffer {
  return Buffer.from([
    bytes[3] ?? 0,
    bytes[2] ?? 0,
    bytes[1] ?? 0,
    bytes[0] ?? 0,
    bytes[5] ?? 0,
    bytes[4] ?? 0,
    bytes[7] ?? 0,
    bytes[6] ?? 0,
    ...bytes.subarray(8, 16),
  ]);
}
