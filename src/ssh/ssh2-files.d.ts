// ssh2's types describe its index only; src/ssh/ssh2-parts.ts narrows these two files to them.
declare module 'ssh2/lib/client.js' {
  const client: unknown;
  export default client;
}
declare module 'ssh2/lib/protocol/keyParser.js' {
  const keyParser: unknown;
  export default keyParser;
}
