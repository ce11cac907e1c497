// What a web browser misconfigured to use the SOCKS port as an HTTP proxy gets back (as C tor and arti do).

/** First bytes of the HTTP methods browsers send to a proxy: GET, HEAD, POST/PUT, CONNECT. */
export function looksLikeHttp(firstByte: number): boolean {
  return firstByte === 0x47 || firstByte === 0x48 || firstByte === 0x50 || firstByte === 0x43;
}

const BODY =
  '<html>\n<head><title>Tor is not an HTTP Proxy</title></head>\n<body>\n' +
  '<h1>Tor is not an HTTP Proxy</h1>\n' +
  '<p>This port speaks SOCKS (4, 4a and 5), not HTTP. Configure your application to use it\n' +
  'as a SOCKS proxy instead of an HTTP proxy.</p>\n</body>\n</html>\n';

const RESPONSE =
  'HTTP/1.0 501 Tor is not an HTTP Proxy\r\n' +
  'Content-Type: text/html; charset=utf-8\r\n' +
  `Content-Length: ${Buffer.byteLength(BODY)}\r\n` +
  'Connection: close\r\n\r\n' +
  BODY;

export const HTTP_NOT_A_PROXY_RESPONSE: Uint8Array = new Uint8Array(Buffer.from(RESPONSE, 'utf8'));
